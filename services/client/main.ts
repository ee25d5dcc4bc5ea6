import * as grpc from '@grpc/grpc-js';
import { registerConsulResolver } from '../lib/discovery/consul-resolver.js';
import { instanceKey } from '../lib/discovery/health-watcher.js';
import { loadEnvConfigOrExit } from '../lib/env-config.js';
import { loadHelloProto } from '../lib/hello-proto.js';
import { createLogger } from '../lib/logger.js';
import { CallLoop } from './call-loop.js';
import { CallStats } from './call-stats.js';
import { helloChannelOptions } from './channel-options.js';
import { clientEnvSpec } from './client-config.js';
import { startStatsServer } from './stats-server.js';

const config = loadEnvConfigOrExit(
  'hello-client',
  'calls HelloService through Consul discovery with round_robin and checks every answer',
  clientEnvSpec,
);
// The resolver reads CONSUL_HTTP_ADDR for targets that name no Consul.
process.env.CONSUL_HTTP_ADDR = config.CONSUL_HTTP_ADDR;
const logger = createLogger('hello-client', config.LOG_LEVEL);
const stats = new CallStats();

registerConsulResolver({
  callPolicy: { deadlineMs: config.DEADLINE_MS, maxAttempts: config.MAX_ATTEMPTS },
  events: {
    onInstances: (service, instances) => {
      const keys = instances.map(instanceKey);
      stats.recordResolved(keys);
      logger.info({ service, count: instances.length, instances: keys }, `resolved ${instances.length} instance(s) of ${service}`);
    },
    onError: (service, message) => {
      stats.recordResolverError();
      logger.warn({ service, err: message }, 'Consul query failed; keeping the last instances');
    },
  },
});

const HelloService = loadHelloProto().hello.HelloService;
const client = new HelloService(
  config.TARGET,
  grpc.credentials.createInsecure(),
  helloChannelOptions(config.KEEPALIVE_TIME_MS, config.KEEPALIVE_TIMEOUT_MS),
);

const loop = new CallLoop(client, stats, logger, {
  ratePerSecond: config.CALL_RATE,
  concurrency: config.CONCURRENCY,
  deadlineMs: config.DEADLINE_MS,
  namePrefix: config.NAME_PREFIX,
});

const statsServer = startStatsServer(stats, config.STATS_PORT, (port) => {
  logger.info({ target: config.TARGET, rate: config.CALL_RATE, concurrency: config.CONCURRENCY, statsPort: port }, 'calling HelloService');
  loop.start();
});

const summary = setInterval(() => {
  const s = stats.snapshot();
  logger.info(
    {
      ok: s.ok,
      failed: s.failed,
      wrong: s.wrong,
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
  await loop.stop();
  client.close();
  statsServer.close();
  const s = stats.snapshot();
  logger.info({ ok: s.ok, failed: s.failed, wrong: s.wrong }, 'stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutDown());
process.on('SIGINT', () => void shutDown());
