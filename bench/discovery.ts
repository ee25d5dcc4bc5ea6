import { writeFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { consulDiscoveryOptions, registerConsulResolver } from '@grpc-consul-lab/consul-discovery';
import { ConsulDevAgent, CountingProxy, freePort } from '@grpc-consul-lab/consul-discovery/testing';
import * as grpc from '@grpc/grpc-js';
import { helloServiceConfig } from '../services/client/service-config.js';
import { type HelloServiceClient, loadHelloProto } from '../packages/contracts/hello.js';
import { HelloProcess } from '../services/local/hello-process.js';
import { passingIds } from '../packages/testing/consul-queries.js';
import { eventually } from '../packages/testing/eventually.js';
import { consulTlsForChecks, makeTestCertificates } from '../packages/testing/test-certificates.js';
import { measureFirstCalls } from './support/first-call.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

/**
 * Part of `make bench`: what the discovery library costs and saves, each
 * figure a ratio or count from one run. Printed as a table and written to
 * reports/bench/discovery.json.
 *  - throughput through the consul resolver vs a static ipv4: list, same round_robin config, at saturation
 *  - Consul requests per idle client per minute
 *  - Consul health queries for 100 channels vs for 1
 *  - new instance passing -> its first call, blocking query vs 500 ms polling (p50, p99 over 20 events),
 *    split where the time goes (support/first-call.ts)
 */
const SATURATION_MS = 3_000;
const PAIRS = 8;
const CONCURRENCY = 64;
const IDLE_MS = 60_000;
const EVENTS = 20;
// Calls go out in a burst every 5 ms (the call loop's tick): at this rate each burst reaches every
// instance, so a first call waits for a connection, not for its turn (at 200 calls/s and 4 instances,
// an instance's turn comes every 20 ms on average: the measure would be mostly the call rate).
const FIRST_CALL_RATE = 1_000;

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
};

function helloClient(target: string, options: grpc.ChannelOptions = {}): HelloServiceClient {
  return new (loadHelloProto().hello.HelloService)(target, grpc.credentials.createInsecure(), {
    'grpc.service_config': JSON.stringify(helloServiceConfig()),
    ...options,
  });
}

/** Calls per second with CONCURRENCY calls always in flight, for SATURATION_MS. */
async function saturate(client: HelloServiceClient): Promise<number> {
  let done = 0;
  const until = Date.now() + SATURATION_MS;
  const worker = async (): Promise<void> => {
    while (Date.now() < until) {
      await new Promise<void>((resolve, reject) =>
        client.SayHello({ name: 'bench', num1: 1, num2: 2 }, { deadline: Date.now() + 5_000 }, (error) =>
          error ? reject(error) : resolve(),
        ),
      );
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return done / (SATURATION_MS / 1_000);
}

// --first-call-only: only the last figure (about 2 minutes instead of 5), to look into it.
const firstCallOnly = parseArgs({ options: { 'first-call-only': { type: 'boolean', default: false } } }).values['first-call-only'];

registerConsulResolver();
const certificates = await makeTestCertificates();
// Consul's gRPC checks show a certificate: the first-call servers use mutual TLS, as in the stack.
const consul = await ConsulDevAgent.start({ args: consulTlsForChecks(certificates) });
const servers: HelloProcess[] = [];
const results: Record<string, unknown> = {};
try {
  if (!firstCallOnly) {
    for (let i = 0; i < 3; i += 1) servers.push(HelloProcess.start({ port: await freePort(), consulAddress: consul.address }));
    await eventually(async () => (await passingIds(consul.address)).length === 3, 15_000);

    // Throughput: the same three servers, found through Consul or listed by hand. Both warmed up,
    // then measured in pairs, back to back, the order alternating; on 2 shared cores one window
    // varies by ±10 %, so the figure is the median of the pairs' ratios.
    const viaConsul = helloClient(`consul://${consul.address}/HelloService`, consulDiscoveryOptions({ connection: { env: {} } }));
    const viaList = helloClient(`ipv4:${servers.map((server) => `127.0.0.1:${server.port}`).join(',')}`);
    await saturate(viaConsul);
    await saturate(viaList);
    const pairs: { consul: number; list: number }[] = [];
    for (let round = 0; round < PAIRS; round += 1) {
      const first = round % 2 === 0 ? viaList : viaConsul;
      const second = first === viaList ? viaConsul : viaList;
      const a = await saturate(first);
      const b = await saturate(second);
      pairs.push(first === viaList ? { list: a, consul: b } : { consul: a, list: b });
    }
    viaConsul.close();
    viaList.close();
    results.throughput = {
      consulCallsPerSecond: Math.round(
        quantile(
          pairs.map((p) => p.consul),
          0.5,
        ),
      ),
      staticListCallsPerSecond: Math.round(
        quantile(
          pairs.map((p) => p.list),
          0.5,
        ),
      ),
      ratio: quantile(
        pairs.map((p) => p.consul / p.list),
        0.5,
      ),
      pairs: pairs.map((p) => ({ consul: Math.round(p.consul), list: Math.round(p.list) })),
    };
    // Consul's load: an idle client, then 1 vs 100 channels, through a counting proxy.
    const proxy = await CountingProxy.start({ host: '127.0.0.1', port: consul.httpPort });
    const idle = helloClient(`consul://${proxy.address}/HelloService`, consulDiscoveryOptions({ connection: { env: {} } }));
    await new Promise((resolve) => idle.SayHello({ name: 'x', num1: 1, num2: 1 }, resolve));
    await sleep(1_000);
    const idleBefore = proxy.count('/v1/health/service/');
    await sleep(IDLE_MS);
    const idleRequests = proxy.count('/v1/health/service/') - idleBefore;
    idle.close();
    results.idleClient = {
      requests: idleRequests,
      minutes: IDLE_MS / 60_000,
      perMinute: idleRequests / (IDLE_MS / 60_000),
      waitMs: 300_000,
    };

    const queriesFor = async (channels: number): Promise<number> => {
      const before = proxy.count('/v1/health/service/');
      const clients = Array.from({ length: channels }, () =>
        helloClient(`consul://${proxy.address}/HelloService`, consulDiscoveryOptions({ connection: { env: {} } })),
      );
      await Promise.all(clients.map((client) => new Promise((resolve) => client.SayHello({ name: 'x', num1: 1, num2: 1 }, resolve))));
      await sleep(5_000);
      for (const client of clients) client.close();
      await sleep(200);
      return proxy.count('/v1/health/service/') - before;
    };
    results.channels = { oneChannel: await queriesFor(1), hundredChannels: await queriesFor(100), windowMs: 5_000 };
    await proxy.close();

    // The plaintext servers make way for the first-call measure's own, over mutual TLS.
    for (const server of servers) server.signal('SIGTERM');
    await Promise.all(servers.splice(0).map((server) => server.waitForExit()));
    await eventually(async () => (await passingIds(consul.address)).length === 0, 15_000);
  }

  // New instance passing -> first call, for each discovery mode, split where the time goes.
  for (const [mode, target] of [
    ['blocking', 'consul:///HelloService'],
    ['poll 500 ms', 'consul:///HelloService?mode=poll&interval=500ms'],
  ] as const) {
    const { events, failed, watches } = await measureFirstCalls({
      consul,
      certificates,
      target,
      ratePerSecond: FIRST_CALL_RATE,
      events: EVENTS,
    });
    const spread = (values: readonly (number | undefined)[]): { p50Ms: number; p99Ms: number } | undefined => {
      const known = values.filter((value): value is number => value !== undefined);
      return known.length === 0 ? undefined : { p50Ms: quantile(known, 0.5), p99Ms: quantile(known, 0.99) };
    };
    results[`newInstance ${mode}`] = {
      events: events.length,
      ratePerSecond: FIRST_CALL_RATE,
      ...spread(events.map((event) => event.passingToFirstCallMs)),
      passingToPush: spread(events.map((event) => event.passingToPushMs)),
      pushToReady: spread(events.map((event) => event.pushToReadyMs)),
      readyToFirstCall: spread(events.map((event) => event.readyToFirstCallMs)),
      pushToFirstCall: spread(events.map((event) => event.pushToFirstCallMs)),
      failed,
      consulWatches: watches,
      each: events,
    };
  }
} finally {
  await Promise.all(servers.map((server) => server.dispose()));
  await consul.stop();
}

const t = results.throughput as { consulCallsPerSecond: number; staticListCallsPerSecond: number; ratio: number } | undefined;
const idleFigures = results.idleClient as { requests: number; perMinute: number } | undefined;
const channelFigures = results.channels as { oneChannel: number; hundredChannels: number } | undefined;
interface FirstCallFigures {
  readonly events: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failed: number;
  readonly passingToPush?: { p50Ms: number; p99Ms: number };
  readonly pushToReady?: { p50Ms: number; p99Ms: number };
  readonly readyToFirstCall?: { p50Ms: number; p99Ms: number };
  readonly pushToFirstCall?: { p50Ms: number; p99Ms: number };
}
const blocking = results['newInstance blocking'] as FirstCallFigures;
const poll = results['newInstance poll 500 ms'] as FirstCallFigures;
const split = (figures: FirstCallFigures): string => {
  const part = (name: string, value: { p50Ms: number; p99Ms: number } | undefined): string[] =>
    value ? [`${name} ${value.p50Ms}/${value.p99Ms}`] : [];
  const after = figures.pushToReady
    ? [...part('-> READY', figures.pushToReady), ...part('-> first call', figures.readyToFirstCall)]
    : part('-> first call', figures.pushToFirstCall);
  return [...part('Consul -> resolver', figures.passingToPush), ...after].join(', ');
};
const rows = [
  ...(t
    ? [
        [
          'throughput, consul resolver / static ipv4 list (round_robin, 64 in flight)',
          `${t.consulCallsPerSecond} / ${t.staticListCallsPerSecond} calls/s = ${t.ratio.toFixed(3)}`,
          '>= 0.95',
        ],
      ]
    : []),
  ...(idleFigures
    ? [
        [
          `Consul requests from an idle client in ${IDLE_MS / 60_000} min (blocking wait 5 min)`,
          `${idleFigures.requests} = ${idleFigures.perMinute.toFixed(2)}/min`,
          '<= 0.2/min',
        ],
      ]
    : []),
  ...(channelFigures
    ? [
        [
          'Consul health queries in 5 s: 1 channel vs 100 channels',
          `${channelFigures.oneChannel} vs ${channelFigures.hundredChannels}`,
          'the same',
        ],
      ]
    : []),
  [
    `new instance passing -> first call, blocking query, WRR + outlier detection, mutual TLS, ${FIRST_CALL_RATE} calls/s (${blocking.events} events, ${blocking.failed} failed)`,
    `p50 ${blocking.p50Ms} ms, p99 ${blocking.p99Ms} ms (p50/p99: ${split(blocking)})`,
    'p50 <= 10 ms, p99 <= 20 ms',
  ],
  [
    `new instance passing -> first call, poll 500 ms (${poll.events} events, ${poll.failed} failed)`,
    `p50 ${poll.p50Ms} ms, p99 ${poll.p99Ms} ms (p50/p99: ${split(poll)})`,
    '',
  ],
];
console.log('\n| discovery figure | measured | goal |\n|---|---|---|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
mkdirSync('reports/bench', { recursive: true });
const file = `reports/bench/discovery${firstCallOnly ? '-first-call' : ''}.json`;
writeFileSync(file, JSON.stringify(results, null, 2));
console.log(`\nwritten to ${file}`);
