import type { TargetContainer } from '../chaos/docker/docker-driver.js';
import { fetchStats } from '../packages/contracts/stats.js';
import { statsWhen } from '../e2e/support/client-stats.js';
import { ComposeStack, newProjectName } from '../e2e/support/compose-stack.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../packages/testing/eventually.js';
import { instanceIdOf } from '@grpc-consul-lab/consul-discovery';

/**
 * Part of `make bench`: the two ways the chaos runner cuts an instance off,
 * measured side by side on real containers with the client at 200 calls/s.
 * `partition` drops every packet inside the container's network namespace
 * (it keeps its interface and address); `disconnect` takes it off its Docker
 * network (the interface goes, and it may come back on another address).
 */
const RATE = 200;
const CUT_MS = 12_000;
const REPEATS = 3;

interface Row {
  readonly fault: string;
  readonly failed: number;
  readonly maxLatencyMs: number;
  readonly droppedAfterMs: number | undefined;
  readonly servedAgainAfterMs: number | undefined;
  readonly addressKept: boolean;
}

/** Polls `probe` every 50 ms until it holds; the time it took, or undefined after `timeoutMs`. */
async function timeUntil(probe: () => Promise<boolean>, timeoutMs: number): Promise<number | undefined> {
  const started = Date.now();
  const held = await eventually(probe, timeoutMs, 50);
  return held ? Date.now() - started : undefined;
}

async function measure(cluster: ComposeStack, fault: 'partition' | 'disconnect'): Promise<Row> {
  const driver = cluster.driver;
  const [victim] = (await driver.targets('hello')) as [TargetContainer];
  const resolved = async (): Promise<boolean> =>
    (await fetchStats(cluster.statsUrl)).resolvedInstances.some((key) => instanceIdOf(key) === victim.instanceId);
  const before = await fetchStats(cluster.statsUrl);
  const aliases = await driver.aliases(victim);
  if (fault === 'partition') await driver.dropTraffic(victim);
  else for (const network of victim.networks) await driver.disconnect(victim, network);
  const droppedAfterMs = await timeUntil(async () => !(await resolved()), CUT_MS);
  await sleep(Math.max(0, CUT_MS - (droppedAfterMs ?? CUT_MS)));
  if (fault === 'partition') await driver.restoreTraffic(victim);
  else for (const network of victim.networks) await driver.reconnect(victim, network, aliases[network] ?? []);
  const callsBefore = (await fetchStats(cluster.statsUrl)).byInstance[victim.instanceId] ?? 0;
  const servedAgainAfterMs = await timeUntil(
    async () => ((await fetchStats(cluster.statsUrl)).byInstance[victim.instanceId] ?? 0) > callsBefore,
    30_000,
  );
  await sleep(2_000);
  const after = await fetchStats(cluster.statsUrl);
  return {
    fault,
    failed: after.failed - before.failed,
    maxLatencyMs: after.latencyMs.max,
    droppedAfterMs,
    servedAgainAfterMs,
    addressKept: (await driver.describe(victim.containerId)).ip === victim.ip,
  };
}

const rows: Row[] = [];
for (const fault of ['partition', 'disconnect'] as const) {
  for (let i = 0; i < REPEATS; i += 1) {
    // A fresh stack (make up's compose file) each time: the latency window and counters start clean.
    const cluster = await ComposeStack.start(newProjectName(`bench-${fault}`), { env: { CALL_RATE: String(RATE) } });
    try {
      await statsWhen(cluster.statsUrl, 'calls answered by 3 instances', (stats) => Object.keys(stats.byInstance).length === 3, 30_000);
      await sleep(3_000);
      rows.push(await measure(cluster, fault));
    } finally {
      await cluster.down();
    }
  }
}
const ms = (value: number | undefined): string => (value === undefined ? 'never' : `${value} ms`);
console.log(`\nCutting one of 3 instances off for ${CUT_MS / 1_000} s, client at ${RATE} calls/s (${REPEATS} runs each)\n`);
console.log('| fault | failed calls | max call latency | out of the resolved set after | served again after the heal | address kept |');
console.log('|---|---|---|---|---|---|');
for (const row of rows) {
  console.log(
    `| ${row.fault} | ${row.failed} | ${ms(row.maxLatencyMs)} | ${ms(row.droppedAfterMs)} | ${ms(row.servedAgainAfterMs)} | ${row.addressKept ? 'yes' : 'no'} |`,
  );
}
