import type { ActionRecord, Journal, Sample } from '../engine/journal.js';

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
}

/** A fault's window: from its start to the next fault's start, or the end of the run. */
export function windowEnd(journal: Journal, action: ActionRecord): number {
  const later = journal.actions.filter((other) => other.startedAt > action.startedAt).map((other) => other.startedAt);
  return Math.min(journal.endedAt || Number.POSITIVE_INFINITY, ...later);
}

export function faultFigures(journal: Journal): FaultFigures[] {
  const last: Sample | undefined = journal.samples.at(-1);
  return journal.actions.map((action) => {
    const end = windowEnd(journal, action);
    const inWindow = journal.samples.filter((sample) => sample.t > action.startedAt && sample.t <= end);
    const before = [...journal.samples].reverse().find((sample) => sample.t <= action.startedAt) ?? inWindow[0];
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
    const firstCalls = action.newInstances.map((id) => last?.firstOkAtByInstance[id]);
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
    };
  });
}
