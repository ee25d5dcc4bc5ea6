import { createLogger } from '../../packages/runtime/logger.js';
import { stopOnSignals } from '../../packages/runtime/stop-on-signals.js';
import { loadProgramSettingsOrExit } from '../../packages/runtime/program-settings.js';
import { channelCredentials } from '../../packages/runtime/tls.js';
import { LiveFeed } from '../live-view/live-feed.js';
import { clientEnvSpec } from './client-config.js';
import { exitIfConsulTlsFails } from './consul-tls-probe.js';
import { createHelloClient } from './hello-client.js';
import { startStatsServer } from './stats-server.js';
import { logSummaries } from './summary-log.js';

const PROGRAM = 'hello-client';

/** Calls HelloService at a steady rate once an instance is ready; serves its counters; stops on SIGTERM. */
async function main(): Promise<void> {
  const { config, consul, tls } = loadProgramSettingsOrExit({
    program: PROGRAM,
    summary: 'calls HelloService through Consul discovery with round_robin and checks every answer',
    spec: clientEnvSpec,
  });
  await exitIfConsulTlsFails(consul, PROGRAM);
  const logger = createLogger(PROGRAM, config.LOG_LEVEL, config.LOG_FORMAT);

  const hello = createHelloClient({
    target: config.TARGET,
    consulDatacenters: config.CONSUL_DATACENTERS,
    callPolicy: {
      deadlineMs: config.DEADLINE_MS,
      maxAttempts: config.MAX_ATTEMPTS,
      balancer: config.BALANCER,
      ...(config.HEDGING_DELAY_MS !== undefined && { hedgingDelayMs: config.HEDGING_DELAY_MS }),
    },
    keepalive: { timeMs: config.KEEPALIVE_TIME_MS, timeoutMs: config.KEEPALIVE_TIMEOUT_MS },
    ratePerSecond: config.CALL_RATE,
    concurrency: config.CONCURRENCY,
    namePrefix: config.NAME_PREFIX,
    waitForReady: config.WAIT_FOR_READY,
    credentials: channelCredentials(tls),
    logger,
  });
  // The live view at the stats port's / (make up prints its URL), fed with the summaries.
  const live = new LiveFeed('the client');
  let stopping = false;
  const statsServer = startStatsServer({
    stats: hello.stats,
    port: config.STATS_PORT,
    host: config.STATS_HOST,
    live,
    onListening: (port) => {
      void hello.untilReady().then(() => {
        if (stopping) return;
        logger.info(
          { target: config.TARGET, rate: config.CALL_RATE, concurrency: config.CONCURRENCY, statsPort: port },
          'calling HelloService',
        );
        hello.start();
      });
    },
  });
  const summaries = logSummaries({ stats: hello.stats, live, logger });

  stopOnSignals({
    stop: async () => {
      stopping = true;
      clearInterval(summaries);
      await hello.stop();
      live.close();
      statsServer.close();
      const s = hello.stats.snapshot();
      logger.info({ ok: s.ok, failed: s.failed, wrong: s.wrong }, 'stopped');
    },
  });
}

await main();
