import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { z } from 'zod';
import { type EnvSpec, envSchemas } from '../../packages/runtime/env-config.js';
import { tlsEnvSpec } from '../../packages/runtime/tls-env.js';
import { HELLO_SERVICE_NAME } from '../../packages/contracts/hello.js';

/**
 * The address Consul (and clients on the same network) can reach us at: the
 * source address the kernel picks for a route to Consul. A container on
 * several networks (testcontainers attaches the default bridge too) has
 * several addresses, and only this one is right. No packet is sent.
 *
 * Consul's name is looked up with a short deadline and the last answer kept:
 * a container cut from its network waits seconds for a DNS answer that never
 * comes, while a route lookup of a known address fails at once, and works
 * again the moment the network is back.
 */
export class RouteToConsul {
  private lastIp: string | undefined;
  private pending: Promise<string | undefined> | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly lookupTimeoutMs = 500,
  ) {
    if (isIPv4(host)) this.lastIp = host;
  }

  /** Our address on the route to Consul, or undefined when there is none. */
  async sourceAddress(): Promise<string | undefined> {
    const ip = isIPv4(this.host) ? this.host : ((await this.lookup()) ?? this.lastIp);
    if (ip === undefined) return undefined;
    return new Promise((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => {
        socket.close();
        resolve(undefined);
      });
      socket.connect(this.port, ip, () => {
        const { address } = socket.address();
        socket.close();
        resolve(address === '0.0.0.0' ? undefined : address);
      });
    });
  }

  private async lookup(): Promise<string | undefined> {
    // One lookup at a time: a lookup that hangs (no network) holds a thread of
    // libuv's small pool for seconds, and piling them up would starve every
    // other name lookup of the process, the HTTP client's included.
    this.pending ??= lookup(this.host, { family: 4 })
      .then(
        (result) => result.address,
        () => undefined,
      )
      .finally(() => {
        this.pending = undefined;
      });
    const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), this.lookupTimeoutMs).unref());
    const ip = await Promise.race([this.pending, timeout]);
    if (ip !== undefined) this.lastIp = ip;
    return ip;
  }
}

/** The first non-internal IPv4 address: what a greeting names until a route to Consul is found. */
export function firstExternalAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return '127.0.0.1';
}

/** The instance's id in Consul: service, host name and port, none of which changes with the address. */
export function defaultInstanceId(serviceName: string, host: string, port: number): string {
  return `${serviceName}-${host}-${port}`;
}

export const serverEnvSpec = {
  PORT: { description: 'gRPC port to listen on', default: '50051', schema: envSchemas.port },
  BIND_ADDRESS: {
    description: 'address to listen on (0.0.0.0: every interface, as a container needs)',
    default: '0.0.0.0',
    schema: envSchemas.ipv4,
  },
  ADVERTISE_ADDRESS: {
    description: 'address registered in Consul; empty means the address on the route to Consul, asked again every heartbeat',
    default: '',
    schema: z.string().regex(/^[^\s:/]*$/, 'expected a host name or IPv4 address'),
  },
  CONSUL_HTTP_ADDR: {
    description: "Consul agent(s): host:port or http(s)://host:port, comma-separated; the CLI's other CONSUL_* variables apply too",
    default: '127.0.0.1:8500',
    schema: envSchemas.consulAddress,
  },
  SERVICE_NAME: {
    description: 'name registered in Consul',
    default: HELLO_SERVICE_NAME,
    schema: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, ".", "_" and "-" only'),
  },
  INSTANCE_ID: {
    description: "the instance's id in Consul; empty means <SERVICE_NAME>-<host name>-<PORT>",
    default: '',
    schema: z.string().regex(/^[A-Za-z0-9_.:-]*$/, 'letters, digits, ".", ":", "_" and "-" only'),
  },
  SERVICE_TAGS: { description: 'comma-separated Consul tags', default: 'grpc,hello', schema: envSchemas.csv },
  TTL_MS: { description: 'TTL of the heartbeat check; 0 disables it', default: '20000', schema: envSchemas.nonNegativeInt },
  HEARTBEAT_MS: {
    description: 'how often the TTL is refreshed; empty means TTL/4 (the seed: 5 s of 20 s)',
    default: '',
    schema: z.union([z.literal('').transform(() => undefined), envSchemas.durationMs]),
  },
  GRPC_CHECK_INTERVAL_MS: {
    description: "interval of Consul's gRPC health check; 0 disables it",
    default: '2000',
    schema: envSchemas.nonNegativeInt,
  },
  DEREGISTER_CRITICAL_AFTER_MS: {
    description: 'Consul removes an instance critical this long (min 60000)',
    default: '60000',
    schema: z.coerce.number().int().min(60_000, "Consul's minimum is 60000 (1m)"),
  },
  DRAIN_PROPAGATION_MS: {
    description: 'on SIGTERM, how long clients get to move away (NOT_SERVING, Consul maintenance) before the shutdown',
    default: '1000',
    schema: envSchemas.nonNegativeInt,
  },
  SHUTDOWN_GRACE_MS: {
    description: 'how long in-flight calls may finish on SIGTERM before connections are cut',
    default: '5000',
    schema: envSchemas.nonNegativeInt,
  },
  HANDLER_DELAY_MS: {
    description: 'artificial time each SayHello takes (to watch draining)',
    default: '0',
    schema: envSchemas.nonNegativeInt,
  },
  ...tlsEnvSpec,
  TLS_SERVER_NAME: {
    description: "the name in this instance's certificate, which Consul's TLS check verifies; empty: SERVICE_NAME",
    default: '',
    schema: z.string(),
  },
  LOG_LEVEL: { description: 'pino log level', default: 'info', schema: envSchemas.logLevel },
  LOG_FORMAT: { description: 'pretty (one readable line per event) or json', default: 'pretty', schema: envSchemas.logFormat },
} satisfies EnvSpec;
