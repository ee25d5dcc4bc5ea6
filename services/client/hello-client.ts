import {
  type ConsulConnectionOptions,
  type ConsulDiscoveryOptions,
  consulDiscoveryOptions,
  instanceKey,
  registerConsulResolver,
} from '@grpc-consul-lab/consul-discovery';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { type HelloServiceClient, loadHelloProto } from '../../packages/contracts/hello.js';
import { CallLoop } from './call-loop.js';
import { CallStats } from './call-stats.js';
import type { InstanceRetention } from './instance-ledger.js';
import { type CallPolicy, DEFAULT_CALL_POLICY, helloServiceConfig } from './service-config.js';

/**
 * The one way a HelloService client is made: the client program, the tests
 * and the bench all call this, so what they measure is what ships. It finds
 * instances through the Consul resolver, balances round robin with retries,
 * calls at a steady rate, checks every answer and counts it.
 */
export interface HelloClientOptions {
  /** consul://[agents]/<service>[?…]; see the discovery package's README. */
  readonly target: string;
  /** Agents, token and TLS for Consul; unset fields come from CONSUL_* variables. */
  readonly consul?: ConsulConnectionOptions;
  /** Per datacenter, the Consul agents to ask about it (a target with dc=dc1,dc2); token and TLS as for `consul`. */
  readonly consulDatacenters?: Readonly<Record<string, string>>;
  readonly callPolicy?: CallPolicy;
  /** HTTP/2 pings that notice a frozen instance in about time + timeout; 0 disables them. */
  readonly keepalive?: { readonly timeMs: number; readonly timeoutMs: number };
  readonly credentials?: grpc.ChannelCredentials;
  readonly ratePerSecond: number;
  readonly concurrency?: number;
  readonly namePrefix?: string;
  /** Calls wait for an instance (up to their deadline) while none is up; default true. */
  readonly waitForReady?: boolean;
  readonly logger: Logger;
  /** More channel options (tests set grpc.client_idle_timeout_ms, say). */
  readonly channelOptions?: grpc.ChannelOptions;
  /** How long /stats keeps a gone instance's figures (default: DEFAULT_INSTANCE_RETENTION). */
  readonly instanceRetention?: InstanceRetention;
}

export interface HelloClient {
  readonly stats: CallStats;
  readonly client: HelloServiceClient;
  /**
   * Resolves once the channel has an instance to call: Consul listed one and
   * it connected. Where nothing orders the start (Swarm), a client that starts
   * before any instance registered waits here instead of counting failures.
   */
  untilReady(): Promise<void>;
  /** Starts the call loop. */
  start(): void;
  /** Stops calling, waits for the calls in flight, closes the channel. */
  stop(): Promise<void>;
}

export const DEFAULT_KEEPALIVE = { timeMs: 1_000, timeoutMs: 1_000 } as const;

export function createHelloClient(options: HelloClientOptions): HelloClient {
  registerConsulResolver();
  const stats = new CallStats(options.instanceRetention && { retention: options.instanceRetention });
  const policy = options.callPolicy ?? DEFAULT_CALL_POLICY;
  const keepalive = options.keepalive ?? DEFAULT_KEEPALIVE;
  // One object for the client and for preconnect: grpc-js shares a connection only between equal credentials.
  const credentials = options.credentials ?? grpc.credentials.createInsecure();
  const discovery: ConsulDiscoveryOptions = {
    // A new instance is connected to while its checks run, so its first call finds the connection READY (docs/figures.md).
    preconnect: { credentials },
    ...(options.consul && { connection: options.consul }),
    ...(options.consulDatacenters && {
      datacenters: Object.fromEntries(Object.entries(options.consulDatacenters).map(([datacenter, address]) => [datacenter, { address }])),
    }),
    // Where the library reports a callback of ours that throws (isolated, logged once).
    logger: options.logger,
    onEvent: (event) => {
      if (event.type === 'instances') {
        const keys = event.instances.map(instanceKey);
        stats.recordResolved(event.instances);
        options.logger.info(
          {
            service: event.service,
            count: keys.length,
            instances: keys,
            ...(event.datacenter !== undefined && { datacenter: event.datacenter }),
          },
          `resolved ${keys.length} instance(s) of ${event.service}${event.datacenter !== undefined ? ` in ${event.datacenter}` : ''}`,
        );
      } else if (event.type === 'datacenter') {
        options.logger.info(
          { service: event.service, from: event.from ?? null, to: event.to ?? null, reason: event.reason },
          `datacenter ${event.from ?? 'none'} -> ${event.to ?? 'none'} (${event.reason})`,
        );
      } else if (event.type === 'error') {
        stats.recordResolverError();
        // One datacenter's failure is logged by the library, through this logger, naming the datacenter: once is enough.
        if (event.datacenter !== undefined) return;
        options.logger.warn(
          { service: event.service, kind: event.error.kind, err: event.error.message },
          'Consul query failed; keeping the last instances',
        );
      }
    },
  };
  const client = new (loadHelloProto().hello.HelloService)(options.target, credentials, {
    'grpc.service_config': JSON.stringify(helloServiceConfig(policy)),
    ...(keepalive.timeMs > 0 && {
      'grpc.keepalive_time_ms': keepalive.timeMs,
      'grpc.keepalive_timeout_ms': keepalive.timeoutMs,
      'grpc.keepalive_permit_without_calls': 1,
    }),
    // An instance that comes back on the same address is found again within seconds.
    'grpc.initial_reconnect_backoff_ms': 500,
    'grpc.max_reconnect_backoff_ms': 5_000,
    ...consulDiscoveryOptions(discovery),
    ...options.channelOptions,
  });
  const loop = new CallLoop({
    client,
    stats,
    logger: options.logger,
    ratePerSecond: options.ratePerSecond,
    concurrency: options.concurrency ?? 32,
    deadlineMs: policy.deadlineMs,
    namePrefix: options.namePrefix ?? 'client',
    waitForReady: options.waitForReady ?? true,
  });
  let closed = false;
  return {
    stats,
    client,
    async untilReady() {
      while (!closed) {
        const ready = await new Promise<boolean>((resolve) => client.waitForReady(Date.now() + 10_000, (error) => resolve(!error)));
        if (ready) return;
        if (!closed) options.logger.info({ target: options.target }, 'waiting for an instance to call (none ready in Consul yet)');
      }
    },
    start: () => loop.start(),
    async stop() {
      closed = true;
      await loop.stop();
      client.close();
    },
  };
}
