import type { StatsSnapshot } from '../../packages/contracts/stats.js';
import type { LatencyCounts } from '../../packages/contracts/latency-histogram.js';
import type { Scenario } from '../scenario/schema.js';
import type { DatacenterFailover, ServedBySwitch } from './datacenter-switches.js';
// Defined with the read-backs that make one (a fault module must not need the journal); the journal records them.
import type { Observation } from './read-back.js';

export type { Observation };

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
  /** Every call's latency so far, bucketed (packages/contracts/latency-histogram.ts); absent in older journals. */
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
  /** 'skipped': by the scenario's blast-radius rule (keepAlive), with its reason in `detail`. */
  outcome: 'done' | 'skipped' | 'failed';
  detail: string;
  targets: string[];
  newInstances: string[];
  /** The read-back once applied: absent when the step was skipped or failed before it could be read back. */
  applied?: Observation;
  /** The step left something to undo (a container down, frozen or cut off, a gray fault set). */
  undoable?: boolean;
  /** The read-back once its undo ran: absent while an undoable step has not been undone. */
  undone?: Observation;
  /** The datacenter the step took out (lose-, partition-, empty-datacenter). */
  datacenter?: string;
  /** For a step that took out a datacenter: time to fail over and to fail back, from the client's switches (set when the run ends). */
  failover?: DatacenterFailover;
}

/**
 * What a run proves (runner.ts sets it, `make chaos` exits by it):
 * - 'held': every planned step that was not skipped applied and, if it left
 *   something to undo, was undone, each confirmed by its read-back; and the
 *   hypothesis held before, during and after.
 * - 'violated': the hypothesis was violated during or after the method. A
 *   violation is a finding whether or not every fault is proven.
 * - 'unproven': the hypothesis held, but a planned step did not apply (it
 *   failed, or its read-back did not show it), or its undo did not read back:
 *   the counters then say nothing about that fault.
 * - 'not-steady': the hypothesis did not hold before the method (or the
 *   client did not answer), so no fault was tried.
 * - 'interrupted': stopped on purpose (Ctrl-C, SIGTERM); faults undone, no verdict on the hypothesis.
 */
export type Verdict = 'held' | 'violated' | 'unproven' | 'not-steady' | 'interrupted';

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
  /** Absent in journals written before runs had to prove their faults. */
  verdict?: Verdict;
  /** The verdict's why in one line: the violated probes, the first unproven step; when held, the faults skipped (if any). */
  verdictReason?: string;
  readonly probes: ProbeResult[];
  readonly actions: ActionRecord[];
  readonly rollbacks: { readonly description: string; readonly at: number; readonly outcome: string }[];
  readonly samples: Sample[];
  /**
   * Every served-by switch the client reported during the run, oldest first
   * (datacenter-switches.ts): which datacenter answered, from when. Absent in
   * journals from before it was kept; empty when the client names no datacenter.
   */
  servedBy?: ServedBySwitch[];
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

/** The run's last sample taken at or before `t` (epoch ms); undefined when none was taken by then. */
export function sampleAt(journal: Pick<Journal, 'samples'>, t: number): Sample | undefined {
  return [...journal.samples].reverse().find((sample) => sample.t <= t);
}
