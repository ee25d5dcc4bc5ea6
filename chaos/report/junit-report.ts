import { createRequire } from 'node:module';
import type { Builder } from 'junit-report-builder';
import type { Journal } from '../engine/journal.js';
import { failoverLine } from '../engine/datacenter-switches.js';
import { faultName, proofLine, unprovenWhy } from '../engine/verdict.js';
import { faultFigures, steadyLatency, windowEnd } from './fault-figures.js';

/**
 * The run as JUnit XML (`make chaos JUNIT=path`), so CI shows each fault as a
 * test case: the steady-state hypothesis before the faults and after them,
 * and one case per fault, failed when the fault is unproven (it did not
 * apply, or its read-back or its undo's did not confirm it) or the
 * hypothesis was violated while it was the latest fault. Made from the
 * journal alone, like the HTML report.
 */
// A CommonJS module whose typings declare an ES default export: required, so
// what TypeScript sees is what Node gives (module.exports is the builder).
const junit = createRequire(import.meta.url)('junit-report-builder') as Builder;

export function renderJunit(journal: Journal): string {
  const builder = junit.newBuilder();
  const className = `chaos.${journal.scenario.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  const suite = builder.testSuite().name(`chaos: ${journal.scenario.title} (seed ${journal.seed})`);
  const violations = journal.probes.filter((probe) => !probe.ok);
  const says = (probes: typeof violations): string =>
    probes.map((probe) => `${probe.probe} [${probe.phase}] = ${probe.value} (expected ${probe.expected})`).join('; ');

  const hypothesis = (phase: 'before' | 'after', name: string): void => {
    const probes = journal.probes.filter((probe) => probe.phase === phase);
    const testCase = suite.testCase().className(className).name(name);
    if (probes.length === 0) testCase.skipped();
    else if (probes.some((probe) => !probe.ok)) testCase.failure(says(probes.filter((probe) => !probe.ok)), 'hypothesis');
    testCase.standardOutput(probes.map((probe) => `${probe.ok ? 'ok' : 'VIOLATED'} ${probe.probe}: ${probe.value}`).join('\n'));
  };

  hypothesis('before', 'steady state before the faults');
  const figures = faultFigures(journal);
  const steady = steadyLatency(journal);
  for (const action of journal.actions) {
    const end = windowEnd(journal, action);
    const figure = figures.find((entry) => entry.index === action.index);
    const testCase = suite
      .testCase()
      .className(className)
      .name(`#${action.index + 1} ${action.description}`)
      .time(Math.max(0, (Math.min(end, journal.endedAt || end) - action.startedAt) / 1_000));
    const during = violations.filter((probe) => probe.phase === 'during' && probe.at >= action.startedAt && probe.at <= end);
    const unproven = unprovenWhy(action);
    if (action.outcome === 'skipped') testCase.skipped();
    else if (unproven !== undefined) testCase.failure(`${faultName(action)} ${unproven}`, 'fault');
    else if (during.length > 0) testCase.failure(says(during), 'hypothesis');
    const seconds = (value: number | undefined): string => (value === undefined ? '-' : `${(value / 1_000).toFixed(1)} s`);
    testCase.standardOutput(
      `${action.detail}\n${proofLine(action)}\ncalls failed ${figure?.failures ?? 0}, wrong ${figure?.wrong ?? 0}, recovered ${figure?.recovered ?? 0} while it was the latest fault; out of the resolver's set after ${seconds(figure?.detectedAfterMs)}, replacement's first call after ${seconds(figure?.replacementFirstCallAfterMs)}; latency p50 / p99 ${figure?.latency ? `${figure.latency.p50} / ${figure.latency.p99} ms` : '-'} (steady ${steady ? `${steady.p50} / ${steady.p99} ms` : '-'})${action.failover ? `\n${failoverLine(action.failover)}` : ''}`,
    );
  }
  hypothesis('after', 'steady state after the faults');
  return builder.build();
}
