import { ConsulDevAgent } from '@grpc-consul-lab/consul-discovery/testing';
import { loadEnvConfigOrExit } from '../../packages/runtime/env-config.js';
import { createLogger } from '../../packages/runtime/logger.js';
import { stopOnSignals } from '../../packages/runtime/stop-on-signals.js';
import { spawnLocalClient, stopProcess } from './client-process.js';
import { localEnvSpec } from './local-config.js';
import { LocalServers } from './local-servers.js';

const PROGRAM = 'hello-local';

/** The Consul dev agent on `port`; when it cannot start, one line and exit 1. */
async function startConsulOrExit(port: number): Promise<ConsulDevAgent> {
  try {
    return await ConsulDevAgent.start({ httpPort: port });
  } catch (error) {
    process.stderr.write(`${PROGRAM}: could not start Consul on port ${port}: ${(error as Error).message.split('\n')[0]}\n`);
    process.exit(1);
  }
}

/**
 * `make local`: the whole demo as local processes, no Docker: a Consul dev
 * agent, N servers, the client, and the seed's fault simulator, which stops
 * every server every FAULT_EVERY_MS and restarts each on its port + PORT_STEP.
 */
async function main(): Promise<void> {
  const config = loadEnvConfigOrExit({
    program: PROGRAM,
    summary: "the demo as local processes, with the seed demo's fault simulator",
    spec: localEnvSpec,
  });
  const logger = createLogger(PROGRAM, config.LOG_LEVEL, config.LOG_FORMAT);
  const consul = await startConsulOrExit(config.CONSUL_PORT);
  logger.info(
    { ui: `http://127.0.0.1:${config.CONSUL_PORT}/ui/` },
    'Consul dev agent is up. Local mode: no ACLs and no TLS, so everything (Consul, the servers, the client) listens on 127.0.0.1 only',
  );
  const servers = new LocalServers({
    ports: Array.from({ length: config.SERVERS }, (_, i) => config.BASE_PORT + i),
    consulAddress: consul.address,
    logFormat: config.LOG_FORMAT,
    faultEveryMs: config.FAULT_EVERY_MS,
    portStep: config.PORT_STEP,
    logger,
  });
  const client = spawnLocalClient({
    consulAddress: consul.address,
    callRate: config.CALL_RATE,
    statsPort: config.STATS_PORT,
    logFormat: config.LOG_FORMAT,
  });

  stopOnSignals({
    stop: async () => {
      await servers.stopFaults();
      await stopProcess(client);
      await servers.stop();
      await consul.stop();
      logger.info('everything stopped');
    },
  });
}

await main();
