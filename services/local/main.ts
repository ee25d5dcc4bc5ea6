import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { envSchemas, loadEnvConfigOrExit } from '../lib/env-config.js';
import { createLogger } from '../lib/logger.js';
import { ConsulDevAgent } from '@grpc-consul-lab/consul-discovery/testing';
import { HelloProcess } from './hello-process.js';

/**
 * `make local`: the whole demo as local processes, no Docker: a Consul dev
 * agent, N servers, the client, and the seed's fault simulator, which stops
 * every server every FAULT_EVERY_MS and restarts each on its port + PORT_STEP.
 */
const config = loadEnvConfigOrExit({
  program: 'hello-local',
  summary: "the demo as local processes, with the seed demo's fault simulator",
  spec: {
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
  },
});
const logger = createLogger('hello-local', config.LOG_LEVEL, config.LOG_FORMAT);
const CLIENT_MAIN = fileURLToPath(new URL('../client/main.js', import.meta.url));

let consul: ConsulDevAgent;
try {
  consul = await ConsulDevAgent.start({ httpPort: config.CONSUL_PORT });
} catch (error) {
  process.stderr.write(`hello-local: could not start Consul on port ${config.CONSUL_PORT}: ${(error as Error).message.split('\n')[0]}\n`);
  process.exit(1);
}
logger.info(
  { ui: `http://127.0.0.1:${config.CONSUL_PORT}/ui/` },
  'Consul dev agent is up. Local mode: no ACLs and no TLS, so everything (Consul, the servers, the client) listens on 127.0.0.1 only',
);

const ports = Array.from({ length: config.SERVERS }, (_, i) => config.BASE_PORT + i);
const startServer = (port: number): HelloProcess =>
  HelloProcess.start({ port, consulAddress: consul.address, inheritOutput: true, detached: true, env: { LOG_FORMAT: config.LOG_FORMAT } });
let servers = ports.map(startServer);

const client = spawn(process.execPath, [CLIENT_MAIN], {
  env: {
    ...process.env,
    CONSUL_HTTP_ADDR: consul.address,
    CALL_RATE: String(config.CALL_RATE),
    STATS_PORT: String(config.STATS_PORT),
    STATS_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    LOG_FORMAT: config.LOG_FORMAT,
  },
  stdio: ['ignore', 'inherit', 'inherit'],
  detached: true,
});

let round = 0;
let stopping = false;
/** The round in progress: its servers are stopping, and it starts their successors unless we are stopping too. */
let roundInProgress: Promise<void> | undefined;
const simulator =
  config.FAULT_EVERY_MS > 0
    ? setInterval(() => {
        if (roundInProgress || stopping) return;
        round += 1;
        const moved = servers.map((server) => server.port + config.PORT_STEP);
        logger.warn({ round, stopping: servers.map((s) => s.port), restartingOn: moved }, 'fault simulator: stopping every server');
        const stopped = servers;
        for (const server of stopped) server.signal('SIGTERM');
        roundInProgress = Promise.all(stopped.map((server) => server.waitForExit()))
          .then(() => {
            // Ctrl-C during the round: nothing new starts, so nothing is left running.
            if (!stopping) servers = moved.map(startServer);
          })
          .finally(() => {
            roundInProgress = undefined;
          });
      }, config.FAULT_EVERY_MS)
    : undefined;

async function shutDown(): Promise<void> {
  if (stopping) process.exit(130);
  stopping = true;
  clearInterval(simulator);
  await roundInProgress;
  const clientExited = client.exitCode === null && client.signalCode === null ? once(client, 'exit') : Promise.resolve();
  client.kill('SIGTERM');
  await clientExited;
  await Promise.all(
    servers.map(async (server) => {
      server.signal('SIGTERM');
      await server.waitForExit();
    }),
  );
  await consul.stop();
  logger.info('everything stopped');
  process.exit(0);
}
process.on('SIGINT', () => void shutDown());
process.on('SIGTERM', () => void shutDown());
