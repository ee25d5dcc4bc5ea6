import { z } from 'zod';
import { parseConsulTargetString, resolveConnection } from '@grpc-consul-lab/consul-discovery';
import { type EnvSpec, envSchemas } from '../../packages/runtime/env-config.js';
import { tlsEnvSpec } from '../../packages/runtime/tls-env.js';
import { HELLO_SERVICE_NAME } from '../../packages/contracts/hello.js';
import { BALANCERS } from './service-config.js';

export const clientEnvSpec = {
  TARGET: {
    description:
      'gRPC target, consul://[agent,…]/<service>[?tag=…&dc=…&consistency=…&mode=blocking|poll…] (the discovery package README has the grammar)',
    default: `consul:///${HELLO_SERVICE_NAME}`,
    schema: z.string().superRefine((value, context) => {
      try {
        parseConsulTargetString(value);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
  },
  CONSUL_HTTP_ADDR: {
    description:
      "Consul agent(s) when TARGET names none: host:port or http(s)://host:port, comma-separated; the CLI's other CONSUL_* variables apply too",
    default: '127.0.0.1:8500',
    schema: envSchemas.consulAddress,
  },
  CONSUL_DATACENTERS: {
    description:
      'per datacenter, the Consul agents to ask about it (a TARGET with dc=dc1,dc2), so losing one datacenter\'s Consul does not blind the client: "dc1=https://consul:8501;dc2=https://consul-dc2:8501" (agents comma-separated); token and TLS as for CONSUL_HTTP_ADDR; unset: every datacenter through CONSUL_HTTP_ADDR',
    default: '',
    schema: z.string().transform((value, context) => {
      try {
        return parseConsulDatacenters(value);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  },
  CALL_RATE: { description: 'SayHello calls per second', default: '10', schema: envSchemas.positiveNumber },
  CONCURRENCY: { description: 'most calls in flight at once', default: '8', schema: envSchemas.positiveInt },
  DEADLINE_MS: { description: 'deadline of each call, retries included', default: '5000', schema: envSchemas.durationMs },
  MAX_ATTEMPTS: {
    description: 'attempts per call when an instance is UNAVAILABLE (2..5)',
    default: '5',
    schema: z.coerce.number().int().min(2).max(5),
  },
  BALANCER: {
    description:
      'how calls spread over the instances, under outlier detection: weighted_round_robin (by the load each reports) or round_robin (docs/gray-failures.md compares them)',
    default: 'weighted_round_robin',
    schema: z.enum(BALANCERS),
  },
  HEDGING_DELAY_MS: {
    description:
      'hedging instead of retries: another copy of a call every N ms until one answers, up to MAX_ATTEMPTS (docs/figures.md, network faults); empty: retries',
    default: '',
    schema: z
      .string()
      .regex(/^(|[1-9]\d*)$/, 'a whole number of milliseconds from 1, or empty for retries instead')
      .transform((value) => (value === '' ? undefined : Number(value))),
  },
  WAIT_FOR_READY: {
    description: 'while no instance is up, calls wait for one (up to DEADLINE_MS) instead of failing at once',
    default: 'true',
    schema: envSchemas.boolean,
  },
  KEEPALIVE_TIME_MS: {
    description: 'HTTP/2 ping interval that detects a frozen instance; 0 disables keepalive',
    default: '1000',
    schema: envSchemas.nonNegativeInt,
  },
  KEEPALIVE_TIMEOUT_MS: {
    description: 'how long a ping may go unanswered before the connection is dropped',
    default: '1000',
    schema: envSchemas.durationMs,
  },
  STATS_HOST: {
    description: 'address /stats, /metrics and /healthz listen on (0.0.0.0: every interface, as a container needs)',
    default: '0.0.0.0',
    schema: envSchemas.ipv4,
  },
  STATS_PORT: {
    description: 'HTTP port of /stats, /metrics and /healthz',
    default: '9464',
    schema: z.coerce.number().int().min(0).max(65535),
  },
  NAME_PREFIX: {
    description: 'caller name sent in each request (a sequence number is appended)',
    default: 'client',
    schema: z.string().min(1).max(200),
  },
  ...tlsEnvSpec,
  LOG_LEVEL: { description: 'pino log level (debug logs every call)', default: 'info', schema: envSchemas.logLevel },
  LOG_FORMAT: { description: 'pretty (one readable line per event) or json', default: 'pretty', schema: envSchemas.logFormat },
} satisfies EnvSpec;

/**
 * CONSUL_DATACENTERS: `dc=agent[,agent];dc=agent...` into the agents of each
 * datacenter. Throws one line naming the entry that is wrong: no `=`, a name
 * that is not a datacenter's, a datacenter given twice, or agents the
 * library would refuse (its own parser decides).
 */
export function parseConsulDatacenters(value: string): Record<string, string> {
  const datacenters: Record<string, string> = {};
  for (const entry of value.split(';').map((part) => part.trim())) {
    if (entry === '') continue;
    const equals = entry.indexOf('=');
    if (equals < 0) throw new Error(`entry ${JSON.stringify(entry)} is not dc=agent[,agent]`);
    const datacenter = entry.slice(0, equals).trim();
    const address = entry.slice(equals + 1).trim();
    if (!/^[A-Za-z0-9_-]+$/.test(datacenter))
      throw new Error(`entry ${JSON.stringify(entry)}: ${JSON.stringify(datacenter)} is not a datacenter name`);
    if (datacenter in datacenters) throw new Error(`datacenter ${datacenter} is given twice`);
    try {
      resolveConnection({ address, env: {} });
    } catch (error) {
      throw new Error(`datacenter ${datacenter}: ${(error as Error).message}`);
    }
    datacenters[datacenter] = address;
  }
  return datacenters;
}
