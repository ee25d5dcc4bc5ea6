import { ConsulError, ConsulHttp } from '@grpc-consul-lab/consul-discovery';
import { configOrExit, consulConnectionOrExit, loadEnvConfigOrExit } from '../lib/env-config.js';
import { createLogger } from '../lib/logger.js';
import { channelCredentials, readTlsFiles } from '../lib/tls.js';
import { clientEnvSpec } from './client-config.js';
import { createHelloClient } from './hello-client.js';
import { LiveFeed } from '../live-view/live-feed.js';
import { startStatsServer } from './stats-server.js';

const config = loadEnvConfigOrExit({
  program: 'hello-client',
  summary: 'calls HelloService through Consul discovery with round_robin and checks every answer',
  spec: clientEnvSpec,
});
// CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN(_FILE), CONSUL_CACERT… as the consul CLI reads them; checked here, once.
const consul = consulConnectionOrExit('hello-client');
const tls = configOrExit('hello-client', () => readTlsFiles(config));
// A CA or server name that does not fit Consul's certificate will never work: say so once and stop.
// (Consul merely not answering yet is no reason to stop: the resolver waits for it.)
const probe = new ConsulHttp(consul);
await probe
  .leader()
  .catch((error: unknown) => {
    if (error instanceof ConsulError && error.kind === 'tls') {
      process.stderr.write(`hello-client: ${error.message} (check CONSUL_CACERT and CONSUL_TLS_SERVER_NAME)\n`);
      process.exit(2);
    }
  })
  .finally(() => probe.close());
const logger = createLogger('hello-client', config.LOG_LEVEL, config.LOG_FORMAT);

const hello = createHelloClient({
  target: config.TARGET,
  callPolicy: { deadlineMs: config.DEADLINE_MS, maxAttempts: config.MAX_ATTEMPTS },
  keepalive: { timeMs: config.KEEPALIVE_TIME_MS, timeoutMs: config.KEEPALIVE_TIMEOUT_MS },
  ratePerSecond: config.CALL_RATE,
  concurrency: config.CONCURRENCY,
  namePrefix: config.NAME_PREFIX,
  waitForReady: config.WAIT_FOR_READY,
  credentials: channelCredentials(tls),
  logger,
});
const stats = hello.stats;
// The live view at the stats port's / (make up prints its URL): fed once a second below.
const live = new LiveFeed('the client');

const statsServer = startStatsServer({
  stats,
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

const summary = setInterval(() => {
  const s = stats.snapshot();
  live.push(s);
  logger.info(
    {
      ok: s.ok,
      failed: s.failed,
      wrong: s.wrong,
      recovered: s.recovered,
      byInstance: s.byInstance,
      failedByCode: s.failedByCode,
      p50: s.latencyMs.p50,
      p99: s.latencyMs.p99,
    },
    `ok=${s.ok} failed=${s.failed} wrong=${s.wrong} by-instance=${JSON.stringify(s.byInstance)}`,
  );
}, 1_000);

let stopping = false;
async function shutDown(): Promise<void> {
  if (stopping) process.exit(130);
  stopping = true;
  clearInterval(summary);
  await hello.stop();
  live.close();
  statsServer.close();
  const s = stats.snapshot();
  logger.info({ ok: s.ok, failed: s.failed, wrong: s.wrong }, 'stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutDown());
process.on('SIGINT', () => void shutDown());
