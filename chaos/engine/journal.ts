import type { StatsSnapshot } from '../../services/client/call-stats.js';
import type { LatencyCounts } from '../../services/client/latency-histogram.js';
import type { Scenario } from '../scenario/schema.js';

/**
 * What a run leaves behind: the only input of the HTML report, and the
 * record that makes a run reproducible and comparable (Chaos Toolkit's idea).
 */
export type Sample = Pick<
  StatsSnapshot,
  'ok' | 'failed' | 'wrong' | 'recovered' | 'byInstance' | 'firstOkAtByInstance' | 'failedByCode'
> & {
  /** Epoch ms of the reading. */
  readonly t: number;
  /** The resolver's set at the reading, "id@address:port" (absent in journals written before it was kept). */
  readonly resolvedInstances?: readonly string[];
  /** Every call's latency so far, bucketed (services/client/latency-histogram.ts); absent in older journals. */
  readonly latencyCounts?: LatencyCounts;
};

export interface ProbeResult {
  readonly phase: 'before' | 'during' | 'after';
  readonly at: number;
  readonly probe: 'success-ratio' | 'wrong-results' | 'every-live-instance-served' | 'client-reachable';
  readonly ok: boolean;
  readonly value: string;
  readonly expected: string;
}

export interface ActionRecord {
  readonly index: number;
  readonly description: string;
  readonly plannedAtMs: number;
  readonly startedAt: number;
  endedAt: number;
  /** For bounded faults: when the fault was undone. */
  undoneAt?: number;
  readonly kind: string;
  outcome: 'done' | 'skipped' | 'failed';
  detail: string;
  targets: string[];
  newInstances: string[];
}

export interface Journal {
  readonly scenario: {
    readonly title: string;
    readonly description: string;
    readonly file: string;
    /** The scenario as the runner read it (durations in ms); absent in older journals. */
    readonly parsed?: Scenario;
    /** Its YAML as run: `make chaos REPLAY=<journal>` runs it again with the same seed. */
    readonly source?: string;
  };
  readonly seed: number;
  readonly scope: string;
  readonly plan: string;
  readonly startedAt: number;
  endedAt: number;
  methodStartedAt: number;
  status: 'completed' | 'interrupted' | 'failed';
  deviated: boolean;
  readonly probes: ProbeResult[];
  readonly actions: ActionRecord[];
  readonly rollbacks: { readonly description: string; readonly at: number; readonly outcome: string }[];
  readonly samples: Sample[];
}

export function toSample(stats: StatsSnapshot, t: number): Sample {
  return {
    t,
    ok: stats.ok,
    failed: stats.failed,
    wrong: stats.wrong,
    recovered: stats.recovered,
    byInstance: stats.byInstance,
    firstOkAtByInstance: stats.firstOkAtByInstance,
    failedByCode: stats.failedByCode,
    resolvedInstances: stats.resolvedInstances,
    latencyCounts: stats.latencyCounts,
  };
}
