import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ConsulDevAgent } from '@grpc-consul-lab/consul-discovery/testing';
import { ToxiproxyServer } from '../chaos/toxiproxy/toxiproxy-server.js';
import { bandwidth, blackhole, latency, resetPeer, type Toxic } from '../chaos/toxiproxy/toxics.js';
import { countsBetween, type LatencyCounts, quantileMs } from '../packages/contracts/latency-histogram.js';
import type { StatsSnapshot } from '../packages/contracts/stats.js';
import { shareOf } from '../packages/testing/call-share.js';
import { eventually } from '../packages/testing/eventually.js';
import { startClient } from '../services/client/in-process-client.js';
import { type CallPolicy, DEFAULT_CALL_POLICY } from '../services/client/service-config.js';
import { InProcessHello } from './support/in-process-hello.js';
import { policiesAndFaults } from './support/by-name.js';
import { printTable } from './support/table.js';

/**
 * Part of `make bench`: what the client's call policies make of a network
 * fault on one of three instances. A Consul dev agent, 3 HelloService
 * instances in this process, each behind its own proxy of one
 * toxiproxy-server ($TOXIPROXY_BIN) and registered with the proxy's port, so
 * that every call and every load report passes it; the demo client at 200
 * calls/s, plaintext. Per fault and policy, a fresh client: steady, then the
 * toxic on the first instance's proxy for FAULT_MS, then cleared. Consul's
 * check is a TTL the instance keeps passing, so Consul never drops the faulted
 * instance: what happens is the client's doing alone. Counted from the fault
 * to the client's stop: calls ended against those the rate asked for (the
 * call loop makes none while 32 are in flight), failed and wrong; of the
 * calls ended while the fault was set: p50/p99, p99 after its first seconds,
 * the faulted instance's share of answers; steady figures per policy pool
 * every run's steady window. Measured, not asserted:
 * `CONSUL_BIN=… TOXIPROXY_BIN=… node dist/bench/net-fault-policies.js
 * [--policy SUBSTRING]… [--fault SUBSTRING]… [--hedging-delay-ms N]`.
 */
const RATE = 200;
const INSTANCES = 3;
/** After every instance answered: weights and connections settle. */
const WARM_MS = 1_500;
const STEADY_MS = 2_500;
const FAULT_MS = 10_000;
/** Outlier detection looks every 2 s: "p99 after" leaves its first look out. */
const ADAPT_MS = 2_500;
/** After the clear, before the client stops: calls caught by the fault end, or fail, in it. */
const TAIL_MS = 1_000;

const { values: flags } = parseArgs({
  options: {
    policy: { type: 'string', multiple: true, default: [] },
    fault: { type: 'string', multiple: true, default: [] },
    'hedging-delay-ms': { type: 'string', default: '5' },
  },
});
const HEDGING_DELAY_MS = Number(flags['hedging-delay-ms']);
if (!Number.isFinite(HEDGING_DELAY_MS) || HEDGING_DELAY_MS <= 0) {
  console.error(`--hedging-delay-ms: ${flags['hedging-delay-ms']} is not a number of milliseconds above 0`);
  process.exit(2);
}

interface Setup {
  readonly name: string;
  readonly policy: CallPolicy;
}

// gRFC A6's example figures: retries stop once the failures outweigh 1 in 10 answered calls by 5.
const THROTTLING = { maxTokens: 10, tokenRatio: 0.1 } as const;
const hedging = { hedgingDelayMs: HEDGING_DELAY_MS } as const;

const SETUPS: readonly Setup[] = [
  { name: 'round_robin + retries', policy: { ...DEFAULT_CALL_POLICY, balancer: 'round_robin' } },
  { name: 'weighted_round_robin + retries (default)', policy: DEFAULT_CALL_POLICY },
  { name: 'weighted_round_robin + retries + throttling', policy: { ...DEFAULT_CALL_POLICY, retryThrottling: THROTTLING } },
  { name: `round_robin + hedging ${HEDGING_DELAY_MS} ms`, policy: { ...DEFAULT_CALL_POLICY, balancer: 'round_robin', ...hedging } },
  { name: `weighted_round_robin + hedging ${HEDGING_DELAY_MS} ms`, policy: { ...DEFAULT_CALL_POLICY, ...hedging } },
];

interface Fault {
  readonly name: string;
  readonly toxic: Toxic;
  /** The goal asks p99 within 2x steady of latency faults only. */
  readonly isLatency: boolean;
}

const FAULTS: readonly Fault[] = [
  { name: 'latency 200 ± 50 ms', toxic: latency(200, 50), isLatency: true },
  { name: 'latency 50 ± 10 ms', toxic: latency(50, 10), isLatency: true },
  { name: 'bandwidth 5 KB/s', toxic: bandwidth(5), isLatency: false },
  { name: 'reset_peer', toxic: resetPeer(0), isLatency: false },
  { name: 'blackhole', toxic: blackhole(), isLatency: false },
];

/** Calls that ended in a stretch of time, and how. */
interface Tally {
  readonly calls: number;
  /** Attempts that reached an instance (retries and hedged copies included), counted by the instances. */
  readonly attempts: number;
  readonly failed: number;
  readonly wrong: number;
  readonly latencyCounts: LatencyCounts;
}

interface Run {
  readonly fault: string;
  readonly setup: string;
  readonly steady: Tally;
  /**
   * From the fault until the client stopped (a call the fault caught may end
   * after the clear): calls ended, against those the rate asked for until the
   * stop. Short: calls the loop did not make (32 in flight) or that had not
   * ended a second after the stop.
   */
  readonly calls: number;
  readonly due: number;
  readonly failed: number;
  readonly wrong: number;
  /** Attempts that reached an instance from the fault until the stop. */
  readonly attempts: number;
  readonly failedByCode: Record<string, number>;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  readonly p99AfterAdaptMs: number | undefined;
  readonly faultedShare: number;
}

const tallyBetween = (from: StatsSnapshot, to: StatsSnapshot, attempts: number): Tally => ({
  calls: to.total - from.total,
  attempts,
  failed: to.failed - from.failed,
  wrong: to.wrong - from.wrong,
  latencyCounts: countsBetween(from.latencyCounts, to.latencyCounts),
});

function codesBetween(from: StatsSnapshot, to: StatsSnapshot): Record<string, number> {
  const codes = Object.entries(to.failedByCode).map(([code, count]) => [code, count - (from.failedByCode[code] ?? 0)] as const);
  return Object.fromEntries(codes.filter(([, count]) => count > 0));
}

interface Proxied {
  readonly instance: InProcessHello;
  readonly proxy: string;
}

class Bench {
  constructor(
    private readonly consul: ConsulDevAgent,
    private readonly toxiproxy: ToxiproxyServer,
    private readonly instances: readonly Proxied[],
  ) {}

  /** A fresh client with the setup's policy: steady, the fault on the first instance, the clear. */
  async run(setup: Setup, fault: Fault): Promise<Run> {
    const faulted = this.instances[0] as Proxied;
    const client = startClient({ consulAddress: this.consul.address, ratePerSecond: RATE, more: { callPolicy: setup.policy } });
    const snap = (): StatsSnapshot => client.stats.snapshot();
    const arrived = (): number => this.instances.reduce((total, { instance }) => total + instance.callsArrived, 0);
    let toxicSet = false;
    let stopped = false;
    try {
      const everyOneAnswered = () => this.instances.every(({ instance }) => (snap().byInstance[instance.instanceId] ?? 0) > 0);
      if (!(await eventually(everyOneAnswered, 15_000))) throw new Error(`${setup.name}: not every instance answered within 15 s`);
      await sleep(WARM_MS);
      const steadyFrom = snap();
      const steadyArrived = arrived();
      await sleep(STEADY_MS);
      const faultFrom = snap();
      const faultArrived = arrived();
      await this.setToxic(faulted.proxy, fault.toxic);
      toxicSet = true;
      await sleep(ADAPT_MS);
      const adapted = snap();
      await sleep(FAULT_MS - ADAPT_MS);
      const faultTo = snap();
      await this.clearToxic(faulted.proxy, fault.toxic.name);
      toxicSet = false;
      await sleep(TAIL_MS);
      const stopping = snap();
      await client.stop();
      stopped = true;
      const end = snap();
      const endArrived = arrived();
      const window = countsBetween(faultFrom.latencyCounts, faultTo.latencyCounts);
      return {
        fault: fault.name,
        setup: setup.name,
        steady: tallyBetween(steadyFrom, faultFrom, faultArrived - steadyArrived),
        calls: end.total - faultFrom.total,
        due: Math.round((RATE * (stopping.uptimeMs - faultFrom.uptimeMs)) / 1_000),
        failed: end.failed - faultFrom.failed,
        wrong: end.wrong - faultFrom.wrong,
        attempts: endArrived - faultArrived,
        failedByCode: codesBetween(faultFrom, end),
        p50Ms: quantileMs(window, 0.5),
        p99Ms: quantileMs(window, 0.99),
        p99AfterAdaptMs: quantileMs(countsBetween(adapted.latencyCounts, faultTo.latencyCounts), 0.99),
        faultedShare: shareOf(faulted.instance.instanceId, faultFrom, faultTo),
      };
    } finally {
      if (toxicSet) await this.clearToxic(faulted.proxy, fault.toxic.name);
      if (!stopped) await client.stop();
    }
  }

  /** Set, and read back: a fault that did not take would measure the steady state under its name. */
  private async setToxic(proxy: string, toxic: Toxic): Promise<void> {
    await this.toxiproxy.api.addToxic(proxy, toxic);
    const names = (await this.toxiproxy.api.toxics(proxy)).map((set) => set.name);
    if (!names.includes(toxic.name)) throw new Error(`toxic ${toxic.name} not on ${proxy} after it was set (it has: ${names.join(', ')})`);
  }

  private async clearToxic(proxy: string, name: string): Promise<void> {
    await this.toxiproxy.api.removeToxic(proxy, name);
    const names = (await this.toxiproxy.api.toxics(proxy)).map((set) => set.name);
    if (names.includes(name)) throw new Error(`toxic ${name} still on ${proxy} after it was removed`);
  }
}

/** Every run's steady window of one setup, as one. */
function pooled(tallies: readonly Tally[]): Tally {
  const counts: Record<string, number> = {};
  for (const tally of tallies) {
    for (const [bucket, count] of Object.entries(tally.latencyCounts)) counts[bucket] = (counts[bucket] ?? 0) + count;
  }
  const sum = (pick: (tally: Tally) => number): number => tallies.reduce((total, tally) => total + pick(tally), 0);
  return {
    calls: sum((tally) => tally.calls),
    attempts: sum((tally) => tally.attempts),
    failed: sum((tally) => tally.failed),
    wrong: sum((tally) => tally.wrong),
    latencyCounts: counts,
  };
}

/**
 * What the goal asks that the run missed: 0 failed, 0 wrong; under latency,
 * p99 within 2x steady; and the calls made (a call the loop could not make is
 * one the caller did not get answered; 1 % of slack for the loop's ticks).
 */
function misses(run: Run, fault: Fault, steadyP99: number | undefined): string[] {
  const missed: string[] = [];
  if (run.due - run.calls > run.due / 100) missed.push('calls short');
  if (run.failed > 0) missed.push('failed');
  if (run.wrong > 0) missed.push('wrong');
  if (fault.isLatency && (run.p99Ms === undefined || steadyP99 === undefined || run.p99Ms > 2 * steadyP99)) missed.push('p99 > 2x');
  return missed;
}

const ms = (value: number | undefined): string => (value === undefined ? '-' : `${value}`);
const percent = (value: number): string => `${(value * 100).toFixed(1)} %`;

const { policies: setups, faults } = policiesAndFaults({ policies: SETUPS, faults: FAULTS }, flags);

const consul = await ConsulDevAgent.start();
const toxiproxy = await ToxiproxyServer.start();
const instances: Proxied[] = [];
const runs: Run[] = [];
try {
  for (const letter of ['a', 'b', 'c'].slice(0, INSTANCES)) {
    const proxy = `hello-${letter}`;
    const instance = await InProcessHello.start(consul.address, `net-${letter}`, {
      async portForCallers(listeningPort) {
        const made = await toxiproxy.api.createProxy({ name: proxy, listen: '127.0.0.1:0', upstream: `127.0.0.1:${listeningPort}` });
        return Number(made.listen.split(':').pop());
      },
    });
    instances.push({ instance, proxy });
  }
  const bench = new Bench(consul, toxiproxy, instances);
  for (const fault of faults) {
    for (const setup of setups) {
      process.stderr.write(`${fault.name}: ${setup.name}\n`);
      runs.push(await bench.run(setup, fault));
    }
  }
} finally {
  for (const { instance } of instances) await instance.stop();
  await toxiproxy.stop();
  await consul.stop();
}

const steadyBySetup = new Map(
  setups.map((setup) => [setup.name, pooled(runs.filter((run) => run.setup === setup.name).map((run) => run.steady))]),
);
const steadyP99 = (setup: string): number | undefined => quantileMs(steadyBySetup.get(setup)?.latencyCounts ?? {}, 0.99);

console.log(
  `\nOne of ${INSTANCES} instances behind a faulted Toxiproxy proxy, ${RATE} calls/s, plaintext; ${FAULT_MS / 1_000} s per fault` +
    ` (p99 after: without its first ${ADAPT_MS / 1_000} s); steady: every run's ${STEADY_MS / 1_000} s before its fault, pooled\n`,
);
const header = [
  'fault',
  'policy',
  'calls / due',
  'attempts / call',
  'failed',
  'wrong',
  'p50 ms',
  'p99 ms',
  'p99 after ms',
  'faulted share',
  'goal',
];
const perCall = (attempts: number, calls: number): string => (calls > 0 ? (attempts / calls).toFixed(3) : '-');
const steadyLines = setups.map((setup) => {
  const steady = steadyBySetup.get(setup.name) as Tally;
  const latencies = steady.latencyCounts;
  return [
    'steady',
    setup.name,
    `${steady.calls}`,
    perCall(steady.attempts, steady.calls),
    `${steady.failed}`,
    `${steady.wrong}`,
    ms(quantileMs(latencies, 0.5)),
    ms(quantileMs(latencies, 0.99)),
    '-',
    '-',
    '-',
  ];
});
const faultLines = runs.map((run) => {
  const fault = FAULTS.find((entry) => entry.name === run.fault) as Fault;
  const missed = misses(run, fault, steadyP99(run.setup));
  return [
    run.fault,
    run.setup,
    `${run.calls} / ${run.due}`,
    perCall(run.attempts, run.calls),
    `${run.failed}`,
    `${run.wrong}`,
    ms(run.p50Ms),
    ms(run.p99Ms),
    ms(run.p99AfterAdaptMs),
    percent(run.faultedShare),
    missed.length === 0 ? 'met' : `missed: ${missed.join(', ')}`,
  ];
});
printTable(header, [...steadyLines, ...faultLines]);

mkdirSync('reports/bench', { recursive: true });
writeFileSync(
  'reports/bench/net-fault-policies.json',
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      rate: RATE,
      windowsMs: { warm: WARM_MS, steady: STEADY_MS, fault: FAULT_MS, adapt: ADAPT_MS, tail: TAIL_MS },
      hedgingDelayMs: HEDGING_DELAY_MS,
      steady: Object.fromEntries(steadyBySetup),
      runs,
    },
    null,
    2,
  )}\n`,
);
