import type { StatsSnapshot } from '../../packages/contracts/stats.js';
import type { Scenario } from '../scenario/schema.js';
import type { Registration } from './consul-view.js';
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

/** What every probe is judged on: the scenario's hypothesis, the client's counters, and when (phase and time) they were read. */
export interface ProbeReading {
  readonly hypothesis: Scenario['hypothesis'];
  readonly stats: StatsSnapshot;
  readonly phase: ProbeResult['phase'];
  readonly at: number;
}

/** Enough calls succeeded and none was wrong since `baseline`. */
export function checkCounters({ hypothesis, baseline, stats, phase, at }: ProbeReading & { readonly baseline: Baseline }): ProbeResult[] {
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

/** A running instance the runner expects to be served: its id, and the container it lives in. */
export interface LiveInstance {
  readonly instanceId: string;
  readonly container: string;
}

/** "container x; Consul has it at a:p, critical": what the next person needs to see the cause. */
function describeSilent(instance: LiveInstance, registrations: ReadonlyMap<string, readonly Registration[]> | undefined): string {
  const held = registrations?.get(instance.instanceId);
  const consul =
    registrations === undefined
      ? 'Consul not asked'
      : held === undefined || held.length === 0
        ? 'Consul has no registration for it'
        : `Consul has it at ${held.map((r) => `${r.address}:${r.port}, ${r.status}`).join(' and at ')}`;
  return `${instance.instanceId} (container ${instance.container}; ${consul})`;
}

/** Every instance that is up and reachable answered a call within the window. */
export function checkServed({
  hypothesis,
  live,
  stats,
  phase,
  at,
  registrations,
}: ProbeReading & {
  readonly live: readonly LiveInstance[];
  /** What Consul holds for each instance, to name a silent one's cause (undefined: Consul not asked). */
  readonly registrations?: ReadonlyMap<string, readonly Registration[]>;
}): ProbeResult {
  const silent = live.filter(
    ({ instanceId }) => (stats.lastOkAtByInstance[instanceId] ?? 0) < at - hypothesis.everyLiveInstanceServedWithin,
  );
  return {
    phase,
    at,
    probe: 'every-live-instance-served',
    ok: live.length > 0 && silent.length === 0,
    value:
      live.length === 0
        ? 'no live instance'
        : silent.length === 0
          ? `${live.length} of ${live.length}`
          : `silent: ${silent.map((instance) => describeSilent(instance, registrations)).join('; ')}`,
    expected: `each served within ${hypothesis.everyLiveInstanceServedWithin} ms`,
  };
}
