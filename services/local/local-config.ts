import { z } from 'zod';
import { type EnvSpec, envSchemas } from '../../packages/runtime/env-config.js';

/** `make local`'s variables. */
export const localEnvSpec = {
  CONSUL_PORT: { description: 'HTTP port of the local Consul dev agent (UI at /ui/)', default: '8500', schema: envSchemas.port },
  SERVERS: { description: 'number of HelloService processes', default: '3', schema: z.coerce.number().int().min(1).max(20) },
  BASE_PORT: { description: 'gRPC port of the first server; the others follow', default: '50051', schema: envSchemas.port },
  FAULT_EVERY_MS: {
    description: 'stop every server this often and restart it on a new port; 0 disables',
    default: '15000',
    schema: envSchemas.nonNegativeInt,
  },
  PORT_STEP: { description: "how far each restart moves a server's port (the seed: 5)", default: '5', schema: envSchemas.positiveInt },
  CALL_RATE: { description: 'client calls per second', default: '10', schema: envSchemas.positiveNumber },
  STATS_PORT: { description: "the client's /stats and /metrics port", default: '9464', schema: envSchemas.port },
  LOG_LEVEL: { description: 'pino log level of this supervisor', default: 'info', schema: envSchemas.logLevel },
  LOG_FORMAT: {
    description: 'pretty (one readable line per event) or json, for every program',
    default: 'pretty',
    schema: envSchemas.logFormat,
  },
} satisfies EnvSpec;
