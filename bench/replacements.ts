import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { instanceIdOf, sharedWatches } from '@grpc-consul-lab/consul-discovery';
import { ConsulDevAgent } from '@grpc-consul-lab/consul-discovery/testing';
import { eventually } from '../packages/testing/eventually.js';
import { startClient } from '../services/client/in-process-client.js';
import { DEFAULT_INSTANCE_RETENTION } from '../services/client/instance-ledger.js';
import { InProcessHello } from './support/in-process-hello.js';
import { printTable } from './support/table.js';

/**
 * Part of `make bench`: does the demo client stay the same size while its
 * instances are replaced, one after another, 500 times? A real Consul dev
 * agent, HelloService instances in this process, the demo client (resolver,
 * weighted round robin under outlier detection, call loop, counters) at 200
 * calls/s. Each replacement: a new instance registers, the client resolves
 * it and it answers a call, then the oldest deregisters and closes. Read
 * after a garbage collection at the start, after the warm-up (more
 * replacements than the client keeps gone instances), half-way and at the
 * end, each 11 s after the last replacement (see read()): heap, RSS, and the
 * key count of every per-instance map. With
 * `--keep-every-instance` the client keeps every instance it saw (as before
 * the retention), for comparison. Written to reports/bench/replacements.json.
 */
const RATE = 200;
const INSTANCES = 3;
const SUBCHANNEL_SWEEP_MS = 11_000;

const { values: flags } = parseArgs({
  options: {
    replacements: { type: 'string', default: '500' },
    'keep-every-instance': { type: 'boolean', default: false },
  },
});
const REPLACEMENTS = Number(flags.replacements);
if (!Number.isInteger(REPLACEMENTS) || REPLACEMENTS < 1) {
  console.error(`replacements: ${flags.replacements} is not a whole number of at least 1`);
  process.exit(2);
}
const keepAll = flags['keep-every-instance'];
const retention = keepAll ? { goneForMs: Number.POSITIVE_INFINITY, maxGone: Number.POSITIVE_INFINITY } : DEFAULT_INSTANCE_RETENTION;
// Past the warm-up, the client keeps as many gone instances as it ever will.
const WARM_UP = Math.min(REPLACEMENTS, Math.max(1, Math.ceil(DEFAULT_INSTANCE_RETENTION.maxGone * 1.5)));
const CHECKPOINTS = new Set([0, WARM_UP, Math.round((WARM_UP + REPLACEMENTS) / 2), REPLACEMENTS]);

// A heap figure means something only right after a full collection.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Reading {
  readonly replacements: number;
  readonly heapUsedMiB: number;
  readonly rssMiB: number;
  readonly byInstance: number;
  readonly firstOkAtByInstance: number;
  readonly lastOkAtByInstance: number;
  readonly instanceMetricSeries: number;
  readonly resolved: number;
  readonly forgotten: number;
  readonly consulWatches: number;
  readonly ok: number;
  readonly failed: number;
}

const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

const consul = await ConsulDevAgent.start();
const live: InProcessHello[] = [];
const readings: Reading[] = [];
let client: ReturnType<typeof startClient> | undefined;
try {
  for (let i = 0; i < INSTANCES; i += 1) live.push(await InProcessHello.start(consul.address, `bench-${i}`));
  client = startClient({ consulAddress: consul.address, ratePerSecond: RATE, more: { instanceRetention: retention } });
  const stats = client.stats;
  const resolvedIds = (): string[] => stats.snapshot().resolvedInstances.map(instanceIdOf);
  const within = async (what: string, condition: () => boolean): Promise<void> => {
    if (!(await eventually(condition, 10_000, 10))) throw new Error(`${what} within 10 s`);
  };
  await within('the client called every first instance', () => live.every((hello) => stats.snapshot().byInstance[hello.instanceId]));

  const read = async (replacements: number): Promise<void> => {
    // grpc-js frees the subchannels no channel uses any more every 10 s (its subchannel pool's sweep):
    // read after one, or the heap is high by however many instances went since the last (measured: up to 70).
    await sleep(SUBCHANNEL_SWEEP_MS);
    for (let i = 0; i < 3; i += 1) gc();
    const memory = process.memoryUsage();
    const snapshot = stats.snapshot();
    const series = (await stats.registry.getSingleMetric('hello_client_instance_calls_total')?.get())?.values.length ?? 0;
    readings.push({
      replacements,
      heapUsedMiB: mib(memory.heapUsed),
      rssMiB: mib(memory.rss),
      byInstance: Object.keys(snapshot.byInstance).length,
      firstOkAtByInstance: Object.keys(snapshot.firstOkAtByInstance).length,
      lastOkAtByInstance: Object.keys(snapshot.lastOkAtByInstance).length,
      instanceMetricSeries: series,
      resolved: snapshot.resolvedInstances.length,
      forgotten: snapshot.forgotten.instances,
      consulWatches: sharedWatches.size,
      ok: snapshot.ok,
      failed: snapshot.failed,
    });
  };

  await read(0);
  const startedAt = Date.now();
  for (let n = 1; n <= REPLACEMENTS; n += 1) {
    const next = await InProcessHello.start(consul.address, `replacement-${n}`);
    await within(`${next.instanceId} answered`, () => stats.snapshot().firstOkAtByInstance[next.instanceId] !== undefined);
    const old = live.shift() as InProcessHello;
    await old.stop();
    await within(`${old.instanceId} left the resolved set`, () => !resolvedIds().includes(old.instanceId));
    live.push(next);
    if (CHECKPOINTS.has(n)) await read(n);
  }
  const seconds = (Date.now() - startedAt) / 1_000;

  console.log(
    `\n${REPLACEMENTS} instance replacements in ${seconds.toFixed(0)} s (the readings' pauses included), the client at ${RATE} calls/s, ` +
      (keepAll
        ? 'keeping every instance it saw'
        : `keeping gone instances ${retention.goneForMs / 60_000} min, at most ${retention.maxGone}`) +
      '\n',
  );
  printTable(
    [
      'after replacements',
      'heap used',
      'RSS',
      'byInstance',
      'firstOkAt',
      'lastOkAt',
      'metric series',
      'resolved',
      'forgotten',
      'watches',
      'ok',
      'failed',
    ],
    readings.map((r) => [
      String(r.replacements) + (r.replacements === WARM_UP ? ' (warm-up)' : ''),
      `${r.heapUsedMiB} MiB`,
      `${r.rssMiB} MiB`,
      ...[
        r.byInstance,
        r.firstOkAtByInstance,
        r.lastOkAtByInstance,
        r.instanceMetricSeries,
        r.resolved,
        r.forgotten,
        r.consulWatches,
        r.ok,
        r.failed,
      ].map(String),
    ]),
  );
  const warm = readings.find((r) => r.replacements === WARM_UP);
  const end = readings.at(-1);
  if (warm && end && warm !== end) {
    console.log(
      `\nfrom the warm-up to the end: heap ${(end.heapUsedMiB - warm.heapUsedMiB).toFixed(1)} MiB, ` +
        `byInstance keys ${end.byInstance - warm.byInstance}, metric series ${end.instanceMetricSeries - warm.instanceMetricSeries}`,
    );
  }
  mkdirSync('reports/bench', { recursive: true });
  const file = `reports/bench/replacements${keepAll ? '-keep-every-instance' : ''}.json`;
  writeFileSync(file, JSON.stringify({ replacements: REPLACEMENTS, seconds, rate: RATE, retention, warmUp: WARM_UP, readings }, null, 2));
  console.log(`\nwritten to ${file}`);
} finally {
  await client?.stop();
  await Promise.all(live.map((hello) => hello.stop()));
  await consul.stop();
}
