import { type WindowLatency, windowLatency } from '../../packages/contracts/latency-histogram.js';
import { type ActionRecord, type Journal, type Sample, sampleAt } from '../engine/journal.js';
import { instanceIdOf } from '@grpc-consul-lab/consul-discovery';

/** p50 and p99 of the calls between two samples, undefined without calls or latency counts. */
export type LatencyQuantiles = WindowLatency;

export function latencyBetween(earlier: Sample | undefined, later: Sample | undefined): LatencyQuantiles | undefined {
  return later?.latencyCounts ? windowLatency(earlier?.latencyCounts, later.latencyCounts) : undefined;
}

/** Latency of the calls before the first fault (the warm-up, when the hypothesis was checked). */
export function steadyLatency(journal: Journal): LatencyQuantiles | undefined {
  const beforeMethod = journal.samples.filter((sample) => sample.t <= journal.methodStartedAt);
  return latencyBetween(beforeMethod[0], beforeMethod.at(-1));
}

/** Per-fault figures, computed from the journal alone (the report's table, and tests). */
export interface FaultFigures {
  readonly index: number;
  readonly description: string;
  readonly outcome: string;
  readonly detail: string;
  readonly failures: number;
  readonly wrong: number;
  /** From the fault's start to the last sample in its window that saw new failures. */
  readonly lastFailureAfterMs: number | undefined;
  /** From the fault's start to the first correct answer of its last replacement to answer. */
  readonly replacementFirstCallAfterMs: number | undefined;
  /**
   * Time to detect: from the fault's start to the first sample (one a second)
   * whose resolved set no longer holds any of its targets; undefined when they
   * stayed (a freeze Consul never saw) or the journal has no resolved sets.
   */
  readonly detectedAfterMs: number | undefined;
  /** Calls answered on a second try (SayHello cut after its headers) in the window. */
  readonly recovered: number;
  /** Latency of the calls in the fault's window (compare with steadyLatency). */
  readonly latency: LatencyQuantiles | undefined;
}

/** A fault's window: from its start to the next fault's start, or the end of the run. */
export function windowEnd(journal: Journal, action: ActionRecord): number {
  const later = journal.actions.filter((other) => other.startedAt > action.startedAt).map((other) => other.startedAt);
  return Math.min(journal.endedAt || Number.POSITIVE_INFINITY, ...later);
}

export function faultFigures(journal: Journal): FaultFigures[] {
  return journal.actions.map((action) => {
    const end = windowEnd(journal, action);
    const inWindow = journal.samples.filter((sample) => sample.t > action.startedAt && sample.t <= end);
    const before = sampleAt(journal, action.startedAt) ?? inWindow[0];
    let failures = 0;
    let wrong = 0;
    let lastFailureAt: number | undefined;
    let previous = before;
    for (const sample of inWindow) {
      if (previous && sample.failed > previous.failed) {
        failures += sample.failed - previous.failed;
        lastFailureAt = sample.t;
      }
      if (previous && sample.wrong > previous.wrong) wrong += sample.wrong - previous.wrong;
      previous = sample;
    }
    // The last sample that still holds it: the client forgets an instance gone long enough (a soak replaces it).
    const firstCalls = action.newInstances.map(
      (id) => journal.samples.findLast((sample) => id in sample.firstOkAtByInstance)?.firstOkAtByInstance[id],
    );
    const gone = inWindow.find(
      (sample) =>
        sample.resolvedInstances !== undefined &&
        action.targets.length > 0 &&
        action.targets.every((id) => !sample.resolvedInstances?.some((key) => instanceIdOf(key) === id)),
    );
    const lastInWindow = inWindow.at(-1);
    const replacementFirstCallAfterMs =
      action.newInstances.length === 0 || firstCalls.some((at) => at === undefined)
        ? undefined
        : Math.max(...(firstCalls as number[])) - action.startedAt;
    return {
      index: action.index,
      description: action.description,
      outcome: action.outcome,
      detail: action.detail,
      failures,
      wrong,
      lastFailureAfterMs: lastFailureAt === undefined ? undefined : lastFailureAt - action.startedAt,
      replacementFirstCallAfterMs,
      detectedAfterMs: action.outcome === 'done' && gone ? gone.t - action.startedAt : undefined,
      recovered: lastInWindow && before ? lastInWindow.recovered - before.recovered : 0,
      latency: latencyBetween(before, lastInWindow),
    };
  });
}

/** p50 and p99 of the figures that are known (nearest rank), or undefined when none is. */
export function percentiles(values: readonly (number | undefined)[]): { p50: number; p99: number; count: number } | undefined {
  const known = values.filter((value): value is number => value !== undefined).sort((a, b) => a - b);
  if (known.length === 0) return undefined;
  const at = (q: number): number => known[Math.min(known.length - 1, Math.ceil(q * known.length) - 1)] as number;
  return { p50: at(0.5), p99: at(0.99), count: known.length };
}

export interface KindFigures {
  readonly kind: string;
  readonly detect: ReturnType<typeof percentiles>;
  readonly recover: ReturnType<typeof percentiles>;
  /** Across the fault's windows: p50/p99 of each window's p99 latency. */
  readonly windowP99: ReturnType<typeof percentiles>;
  /** Calls recovered per fault. */
  readonly recovered: ReturnType<typeof percentiles>;
}

/** Per kind of fault, across its repeats in the run: p50/p99 of each per-fault figure. */
export function figuresByKind(journal: Journal): KindFigures[] {
  const figures = faultFigures(journal);
  const kinds = [...new Set(journal.actions.map((action) => action.kind))];
  return kinds.map((kind) => {
    const ofKind = figures.filter((figure) => journal.actions.find((action) => action.index === figure.index)?.kind === kind);
    return {
      kind,
      detect: percentiles(ofKind.map((figure) => figure.detectedAfterMs)),
      recover: percentiles(ofKind.map((figure) => figure.replacementFirstCallAfterMs)),
      windowP99: percentiles(ofKind.map((figure) => figure.latency?.p99)),
      recovered: percentiles(ofKind.map((figure) => figure.recovered)),
    };
  });
}
