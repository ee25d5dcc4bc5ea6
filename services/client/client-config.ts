import { z } from 'zod';
import { parseConsulTargetString } from '../lib/discovery/consul-target.js';
import { type EnvSpec, envSchemas } from '../lib/env-config.js';

export const clientEnvSpec = {
  TARGET: {
    description: 'gRPC target, consul://[host:port]/<service>[?tag=…&dc=…&mode=blocking|poll&interval=…]',
    default: 'consul:///HelloService',
    schema: z.string().superRefine((value, context) => {
      try {
        parseConsulTargetString(value, {});
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
  },
  CONSUL_HTTP_ADDR: {
    description: 'Consul agent HTTP address used when TARGET names none',
    default: '127.0.0.1:8500',
    schema: envSchemas.hostPort,
  },
  CALL_RATE: { description: 'SayHello calls per second', default: '10', schema: envSchemas.positiveNumber },
  CONCURRENCY: { description: 'most calls in flight at once', default: '8', schema: envSchemas.positiveInt },
  DEADLINE_MS: { description: 'deadline of each call, retries included', default: '5000', schema: envSchemas.durationMs },
  MAX_ATTEMPTS: {
    description: 'attempts per call when an instance is UNAVAILABLE (2..5)',
    default: '4',
    schema: z.coerce.number().int().min(1).max(5),
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
  LOG_LEVEL: { description: 'pino log level (debug logs every call)', default: 'info', schema: envSchemas.logLevel },
} satisfies EnvSpec;
