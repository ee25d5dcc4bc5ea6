import type { StatsSnapshot } from '../../services/client/call-stats.js';
import type { Scenario } from '../scenario/schema.js';
import type { ProbeResult } from './journal.js';

/**
 * The steady-state hypothesis, judged on the client's own counters: enough
 * calls succeed, none is wrong, and every instance that should be serving is.
 */
export interface Baseline {
  readonly ok: number;
  readonly failed: number;
  readonly wrong: number;
}

export function baselineOf(stats: StatsSnapshot): Baseline {
  return { ok: stats.ok, failed: stats.failed, wrong: stats.wrong };
}

export function checkCounters(
  hypothesis: Scenario['hypothesis'],
  baseline: Baseline,
  stats: StatsSnapshot,
  phase: ProbeResult['phase'],
  at: number,
): ProbeResult[] {
  const ok = stats.ok - baseline.ok;
  const failed = stats.failed - baseline.failed;
  const wrong = stats.wrong - baseline.wrong;
  const calls = ok + failed + wrong;
  const ratio = calls === 0 ? 0 : ok / calls;
  return [
    {
      phase,
      at,
      probe: 'success-ratio',
      ok: calls > 0 && ratio >= hypothesis.successRatioAtLeast,
      value: calls === 0 ? 'no calls' : `${ratio.toFixed(4)} (${ok} ok of ${calls})`,
      expected: `>= ${hypothesis.successRatioAtLeast}`,
    },
    { phase, at, probe: 'wrong-results', ok: wrong <= hypothesis.maxWrong, value: String(wrong), expected: `<= ${hypothesis.maxWrong}` },
  ];
}

/** Every instance that is up and reachable answered a call within the window. */
export function checkServed(
  hypothesis: Scenario['hypothesis'],
  liveInstanceIds: readonly string[],
  stats: StatsSnapshot,
  phase: ProbeResult['phase'],
  at: number,
): ProbeResult {
  const silent = liveInstanceIds.filter((id) => (stats.lastOkAtByInstance[id] ?? 0) < at - hypothesis.everyLiveInstanceServedWithin);
  return {
    phase,
    at,
    probe: 'every-live-instance-served',
    ok: liveInstanceIds.length > 0 && silent.length === 0,
    value:
      liveInstanceIds.length === 0
        ? 'no live instance'
        : silent.length === 0
          ? `${liveInstanceIds.length} of ${liveInstanceIds.length}`
          : `silent: ${silent.join(', ')}`,
    expected: `each served within ${hypothesis.everyLiveInstanceServedWithin} ms`,
  };
}
