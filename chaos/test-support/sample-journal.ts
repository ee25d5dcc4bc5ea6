import { LatencyHistogram } from '../../packages/contracts/latency-histogram.js';
import type { Journal, Sample } from '../engine/journal.js';

/**
 * A journal as a rolling-kill run writes it, made up in memory: 3 instances
 * at 100 calls/s, one killed at 10 s (2 failures), its replacement first
 * answering at 11.5 s. Calls take 2 ms; in the second after the kill, 30 of
 * them take 1.5 s (retried elsewhere). The method starts at 5 s.
 */
export function sampleJournal(): Journal {
  const start = 1_800_000_000_000;
  const samples: Sample[] = [];
  const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
  let failed = 0;
  const firstOk: Record<string, number> = { a: start, b: start, c: start };
  const latencies = new LatencyHistogram();
  for (let second = 0; second <= 30; second += 1) {
    const t = start + second * 1_000;
    const live = second <= 10 ? ['a', 'b', 'c'] : second < 12 ? ['a', 'b'] : ['a', 'b', 'd'];
    if (second === 12) firstOk.d = start + 11_500;
    for (const id of live) counts[id] = (counts[id] ?? 0) + (second === 0 ? 0 : Math.round(100 / live.length));
    if (second === 11) failed += 2;
    if (second > 0) {
      const slow = second === 11 ? 30 : 0;
      for (let call = 0; call < 100 - slow; call += 1) latencies.record(2);
      for (let call = 0; call < slow; call += 1) latencies.record(1_500);
    }
    samples.push({
      t,
      ok: Object.values(counts).reduce((a, b) => a + b, 0),
      failed,
      wrong: 0,
      recovered: 0,
      byInstance: { ...counts },
      firstOkAtByInstance: { ...firstOk },
      failedByCode: failed ? { UNAVAILABLE: failed } : {},
      // The resolver drops c a second after the kill, and has d from 12 s.
      resolvedInstances: live.filter((id) => id !== 'd' || second >= 12).map((id) => `${id}@10.0.0.${id.charCodeAt(0)}:50051`),
      latencyCounts: latencies.snapshot(),
    });
  }
  return {
    scenario: { title: 'Rolling kill (sample)', description: 'made up for tests', file: 'sample.yaml' },
    seed: 7,
    scope: 'com.docker.compose.project=sample',
    plan: 'Plan for "Rolling kill (sample)", seed 7',
    startedAt: start,
    endedAt: start + 30_000,
    methodStartedAt: start + 5_000,
    status: 'completed',
    deviated: false,
    verdict: 'held',
    verdictReason: '',
    probes: [
      { phase: 'before', at: start + 5_000, probe: 'wrong-results', ok: true, value: '0', expected: '<= 0' },
      { phase: 'after', at: start + 30_000, probe: 'wrong-results', ok: true, value: '0', expected: '<= 0' },
    ],
    actions: [
      {
        index: 0,
        description: 'replace random instance (SIGKILL)',
        kind: 'replace',
        plannedAtMs: 10_000,
        startedAt: start + 10_000,
        endedAt: start + 10_500,
        outcome: 'done',
        detail: 'c -> d',
        targets: ['c'],
        newInstances: ['d'],
        applied: { at: start + 10_600, observed: 'hello-c gone; hello-d running', ok: true },
        undoable: false,
      },
    ],
    rollbacks: [],
    samples,
  };
}
