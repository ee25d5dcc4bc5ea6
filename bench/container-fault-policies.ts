import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type Journal, sampleAt } from '../chaos/engine/journal.js';
import { scenarioSchema } from '../chaos/scenario/schema.js';
import { latencyBetween } from '../chaos/report/fault-figures.js';
import { shareOf } from '../packages/testing/call-share.js';
import { statsWhen } from '../e2e/support/client-stats.js';
import { ComposeStack, newProjectName } from '../e2e/support/compose-stack.js';
import { deltaOf } from '../e2e/support/judge.js';
import { policiesAndFaults } from './support/by-name.js';
import { printTable } from './support/table.js';

/**
 * Part of `make bench`: what the client's call policies make of the faults
 * that need real containers, on one of three instances of a compose stack
 * (make up's, secure) with the client at 200 calls/s: packet loss, a starved
 * CPU, memory pressure (iptables, docker update), a clock 10 minutes fast
 * (libfaketime), and, through Toxiproxy in the instance's namespace, latency
 * on the wire and a black hole; and on the Consul server, its data directory
 * full (the stack runs with CONSUL_DATA_SIZE=64m, which disk-full needs). A stack per
 * policy (the client container's BALANCER and HEDGING_DELAY_MS), each fault
 * for 10 s through the chaos runner, its read-backs as the e2e tests check
 * them. From each fault's journal: calls, failed, wrong; p50/p99 of the calls
 * that ended while the fault was on (from its apply to its undo) against the
 * 4 s before it; the faulted instance's share of the answers. Measured, not
 * asserted: `node dist/bench/container-fault-policies.js [--policy SUBSTRING]… [--fault SUBSTRING]…`.
 */
const RATE = 200;
const FAULT = '10s';

interface Policy {
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
}

const POLICIES: readonly Policy[] = [
  { name: 'weighted_round_robin + retries (default)', env: {} },
  { name: 'round_robin + retries', env: { BALANCER: 'round_robin' } },
  { name: 'round_robin + hedging 5 ms', env: { BALANCER: 'round_robin', HEDGING_DELAY_MS: '5' } },
];

interface Fault {
  readonly name: string;
  readonly step: Readonly<Record<string, unknown>>;
}

const FAULTS: readonly Fault[] = [
  { name: 'packet-loss 0.3', step: { action: 'packet-loss', probability: 0.3, target: 'oldest' } },
  { name: 'cpu-starve 0.05', step: { action: 'cpu-starve', cpus: 0.05, target: 'oldest' } },
  { name: 'memory-pressure 64m', step: { action: 'memory-pressure', memory: '64m', target: 'oldest' } },
  { name: 'clock-skew +10m', step: { action: 'clock-skew', offset: '+10m', target: 'oldest' } },
  { name: 'latency 200 ms (wire)', step: { action: 'latency', delay: '200ms', target: 'oldest' } },
  { name: 'blackhole', step: { action: 'blackhole', target: 'oldest' } },
  { name: 'disk-full (Consul)', step: { action: 'disk-full' } },
];

interface Row {
  readonly policy: string;
  readonly fault: string;
  readonly calls: number;
  readonly failed: number;
  readonly wrong: number;
  readonly steadyP99: number | undefined;
  readonly p50: number | undefined;
  readonly p99: number | undefined;
  readonly faultedShare: number | undefined;
  readonly proven: boolean;
}

const { values: flags } = parseArgs({
  options: { policy: { type: 'string', multiple: true, default: [] }, fault: { type: 'string', multiple: true, default: [] } },
});
const { policies, faults } = policiesAndFaults({ policies: POLICIES, faults: FAULTS }, flags);

function rowOf(policy: Policy, fault: Fault, journal: Journal): Row {
  const [action] = journal.actions;
  const delta = deltaOf(journal);
  const startedAt = action?.endedAt ?? 0;
  const undoneAt = action?.undoneAt ?? startedAt;
  const before = sampleAt(journal, (action?.startedAt ?? 0) - 4_000);
  const atFault = sampleAt(journal, action?.startedAt ?? 0);
  const from = sampleAt(journal, startedAt);
  const to = sampleAt(journal, undoneAt);
  const victim = action?.targets[0] ?? '';
  const during = latencyBetween(from, to);
  const answered = from && to ? to.ok - from.ok : 0;
  return {
    policy: policy.name,
    fault: fault.name,
    calls: delta.calls,
    failed: delta.failed,
    wrong: delta.wrong,
    steadyP99: latencyBetween(before, atFault)?.p99,
    p50: during?.p50,
    p99: during?.p99,
    // None for a fault on Consul: its target is no instance.
    faultedShare: from && to && answered > 0 && victim in to.byInstance ? shareOf(victim, from, to) : undefined,
    proven: action?.applied?.ok === true && action.undone?.ok === true,
  };
}

const rows: Row[] = [];
for (const policy of policies) {
  process.stderr.write(`${policy.name}: starting a stack\n`);
  const stack = await ComposeStack.start(newProjectName('policies'), {
    env: { CALL_RATE: String(RATE), CONSUL_DATA_SIZE: '64m', ...policy.env },
  });
  try {
    await statsWhen(stack.statsUrl, '3 instances resolved', (stats) => stats.resolvedInstances.length === 3, 60_000);
    for (const fault of faults) {
      process.stderr.write(`${policy.name}: ${fault.name}\n`);
      const scenario = scenarioSchema.parse({
        title: `${fault.name} under ${policy.name}`,
        hypothesis: { successRatioAtLeast: 1.0, maxWrong: 0, everyLiveInstanceServedWithin: '10s' },
        method: [{ ...fault.step, at: '5s', duration: FAULT }],
        settle: '5s',
        keepAlive: 1,
      });
      const journal = await stack.runParsedScenario(scenario, `${fault.name} (bench)`, 1);
      rows.push(rowOf(policy, fault, journal));
      // The next fault starts from a stack whose every instance answers again (memory-pressure may end one).
      await statsWhen(stack.statsUrl, '3 instances resolved', (stats) => stats.resolvedInstances.length === 3, 60_000);
    }
  } finally {
    await stack.down();
  }
}

const ms = (value: number | undefined): string => (value === undefined ? '-' : `${value}`);
console.log(`\nOne of 3 instances of a compose stack faulted for ${FAULT}, the client at ${RATE} calls/s (mutual TLS); milliseconds\n`);
printTable(
  ['fault', 'policy', 'calls', 'failed', 'wrong', 'steady p99', 'p50', 'p99', 'faulted share', 'applied and undone'],
  rows.map((row) => [
    row.fault,
    row.policy,
    `${row.calls}`,
    `${row.failed}`,
    `${row.wrong}`,
    ms(row.steadyP99),
    ms(row.p50),
    ms(row.p99),
    row.faultedShare === undefined ? '-' : `${(row.faultedShare * 100).toFixed(1)} %`,
    row.proven ? 'yes' : 'NO',
  ]),
);
mkdirSync('reports/bench', { recursive: true });
writeFileSync(
  'reports/bench/container-fault-policies.json',
  `${JSON.stringify({ date: new Date().toISOString(), rate: RATE, rows }, null, 2)}\n`,
);
