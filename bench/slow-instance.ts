import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { ConsulHttp } from '@grpc-consul-lab/consul-discovery';
import { ConsulDevAgent } from '@grpc-consul-lab/consul-discovery/testing';
import type { StatsSnapshot } from '../packages/contracts/stats.js';
import { windowLatency } from '../packages/contracts/latency-histogram.js';
import type { CallPolicy } from '../services/client/service-config.js';
import { DEFAULT_CALL_POLICY } from '../services/client/service-config.js';
import { faultKey } from '../packages/contracts/gray-fault.js';
import { passingToFirstCallMs } from '../packages/testing/consul-queries.js';
import { consulTlsForChecks, makeTestCertificates } from '../packages/testing/test-certificates.js';
import { ProcessCluster } from './support/process-cluster.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { printTable } from './support/table.js';
import { shareOf } from '../packages/testing/call-share.js';
import { pollUntil } from '../packages/runtime/poll.js';

/**
 * A slow instance (+300 ms ± 50 ms on one of 3) at 200 calls/s, for each way
 * the client could cope: round robin or weighted round robin (out-of-band
 * ORCA load reports), each with retries or with hedging. Steady p99 against
 * p99 under the fault, the slow instance's share of calls, failures; then
 * what happens when the fault clears and when a new instance joins (a
 * balancer that weighs instances must not starve one it has no figures for).
 * Measured, not asserted: `node dist/bench/slow-instance.js`.
 */
const RATE = 200;
const STEADY_MS = 10_000;
const ADAPT_MS = 3_000;
const FAULT_MS = 15_000;

interface Setup {
  readonly name: string;
  readonly policy: CallPolicy;
}

const SETUPS: Setup[] = [
  { name: 'round_robin + retries', policy: { ...DEFAULT_CALL_POLICY, balancer: 'round_robin' } },
  { name: 'round_robin + hedging 50 ms', policy: { ...DEFAULT_CALL_POLICY, balancer: 'round_robin', hedgingDelayMs: 50, maxAttempts: 3 } },
  { name: 'weighted_round_robin + retries (shipped)', policy: DEFAULT_CALL_POLICY },
  {
    name: 'weighted_round_robin + hedging 50 ms',
    policy: { ...DEFAULT_CALL_POLICY, hedgingDelayMs: 50, maxAttempts: 3 },
  },
];

interface Row {
  readonly setup: string;
  readonly steadyP99: number | undefined;
  readonly faultP99All: number | undefined;
  readonly faultP99AfterAdapt: number | undefined;
  readonly faultP50AfterAdapt: number | undefined;
  readonly slowShare: number;
  /** From the fault until the slow instance had < 5 % of the calls of the last second. */
  readonly adaptedAfterMs: number | undefined;
  readonly failed: number;
  readonly wrong: number;
  readonly shareAfterClear: number;
  readonly newcomerFirstCallMs: number | undefined;
  readonly newcomerShare: number;
}

const latency = (before: StatsSnapshot, after: StatsSnapshot) => windowLatency(before.latencyCounts, after.latencyCounts);

async function measure(
  consul: ConsulDevAgent,
  kv: ConsulHttp,
  certificates: Awaited<ReturnType<typeof makeTestCertificates>>,
  setup: Setup,
): Promise<Row> {
  const cluster = new ProcessCluster({ consul, certificates });
  try {
    for (let i = 0; i < 3; i += 1) await cluster.addServer();
    await cluster.passingAreLive();
    cluster.startClient({ ratePerSecond: RATE, more: { callPolicy: setup.policy } });
    await cluster.settled();
    await sleep(3_000);
    const snap = (): StatsSnapshot => cluster.client.stats.snapshot();

    const steadyStart = snap();
    await sleep(STEADY_MS);
    const faultStart = snap();
    const slow = cluster.servers[0]?.instanceId as string;
    await kv.kvPut(faultKey(slow), JSON.stringify({ kind: 'slow', delayMs: 300, jitterMs: 50 }));
    const adaptedAfterMs = await timeUntilShareBelow(slow, 0.05, ADAPT_MS, snap);
    await sleep(Math.max(0, faultStart.uptimeMs + ADAPT_MS - snap().uptimeMs));
    const adapted = snap();
    await sleep(FAULT_MS);
    const faultEnd = snap();
    await kv.kvDelete(faultKey(slow));
    await sleep(5_000);
    const cleared = snap();
    await sleep(5_000);
    const afterClear = snap();

    const newcomer = await cluster.addServer();
    const firstCall = await passingToFirstCallMs({
      consulAddress: consul.address,
      instanceId: newcomer.instanceId,
      firstOkAt: () => snap().firstOkAtByInstance[newcomer.instanceId],
    });
    const joined = snap();
    await sleep(5_000);
    const end = snap();
    return {
      setup: setup.name,
      steadyP99: latency(steadyStart, faultStart)?.p99,
      faultP99All: latency(faultStart, faultEnd)?.p99,
      faultP99AfterAdapt: latency(adapted, faultEnd)?.p99,
      faultP50AfterAdapt: latency(adapted, faultEnd)?.p50,
      slowShare: shareOf(slow, adapted, faultEnd),
      adaptedAfterMs,
      failed: end.failed,
      wrong: end.wrong,
      shareAfterClear: shareOf(slow, cleared, afterClear),
      newcomerFirstCallMs: firstCall,
      newcomerShare: shareOf(newcomer.instanceId, joined, end),
    };
  } finally {
    await cluster.dispose();
  }
}

/** Samples every 100 ms; the share is over the last second of calls. */
async function timeUntilShareBelow(
  instance: string,
  below: number,
  timeoutMs: number,
  snap: () => StatsSnapshot,
): Promise<number | undefined> {
  const started = Date.now();
  const history: StatsSnapshot[] = [];
  return pollUntil(
    () => {
      const now = snap();
      history.push(now);
      const secondAgo = history.find((entry) => entry.uptimeMs >= now.uptimeMs - 1_000) as StatsSnapshot;
      const seenASecond = now.uptimeMs - (history[0] as StatsSnapshot).uptimeMs >= 1_000;
      return seenASecond && shareOf(instance, secondAgo, now) < below ? Date.now() - started : undefined;
    },
    { timeoutMs, everyMs: 100 },
  );
}

const ms = (value: number | undefined): string => (value === undefined ? '-' : `${value} ms`);
const percent = (value: number): string => `${(value * 100).toFixed(1)} %`;

const certificates = await makeTestCertificates();
const consul = await ConsulDevAgent.start({ args: consulTlsForChecks(certificates) });
const kv = new ConsulHttp({ address: consul.address });
try {
  const only = process.env.BENCH_ONLY;
  const rows: Row[] = [];
  for (const setup of SETUPS.filter((entry) => only === undefined || entry.name.includes(only))) {
    process.stderr.write(`measuring ${setup.name}\n`);
    rows.push(await measure(consul, kv, certificates, setup));
  }
  mkdirSync('reports/bench', { recursive: true });
  writeFileSync('reports/bench/slow-instance.json', JSON.stringify(rows, null, 2));
  console.log(
    `\nOne of 3 instances +300 ms ± 50 ms, ${RATE} calls/s over mutual TLS (p99 after the first ${ADAPT_MS / 1_000} s of the fault: ${FAULT_MS / 1_000} s window)\n`,
  );
  const header = [
    'setup',
    'steady p99',
    'fault p99 (all)',
    `fault p50 / p99 (after ${ADAPT_MS / 1_000} s)`,
    'slow share',
    'slow share < 5 % after',
    'failed',
    'wrong',
    'its share after clear',
    'new instance: first call / share',
  ];
  const lines = rows.map((row) => [
    row.setup,
    ms(row.steadyP99),
    ms(row.faultP99All),
    `${ms(row.faultP50AfterAdapt)} / ${ms(row.faultP99AfterAdapt)}`,
    percent(row.slowShare),
    row.adaptedAfterMs === undefined ? `> ${ADAPT_MS / 1_000} s` : ms(row.adaptedAfterMs),
    String(row.failed),
    String(row.wrong),
    percent(row.shareAfterClear),
    `${row.newcomerFirstCallMs === undefined ? 'never' : `${row.newcomerFirstCallMs} ms`} / ${percent(row.newcomerShare)}`,
  ]);
  printTable(header, lines);
} finally {
  await consul.stop();
  rmSync(certificates.dir, { recursive: true, force: true });
}
