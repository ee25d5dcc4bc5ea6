import type { ActionRecord, Journal, Observation, Verdict } from './journal.js';

/**
 * A run's verdict, from its journal alone: the runner sets it, the CLI exits
 * by it, the reports show it, and the e2e suite asserts it. "Held" is a claim
 * about faults, so it needs proof that each one happened (journal.ts, Verdict).
 */

/** "fault #3 pause HelloService-hello-2-50051": the step as a user can find it in the plan and the containers. */
export function faultName(action: ActionRecord): string {
  const what = action.targets.length > 0 ? `${action.kind} ${action.targets.join(', ')}` : action.description;
  return `fault #${action.index + 1} ${what}`;
}

function notApplied(action: ActionRecord): string | undefined {
  if (action.outcome === 'failed') return `did not apply: ${action.detail}`;
  if (!action.applied) return 'did not apply: nothing was read back';
  return action.applied.ok ? undefined : `did not apply: read back ${action.applied.observed}`;
}

function notUndone(action: ActionRecord): string | undefined {
  if (!action.undoable) return undefined;
  if (!action.undone) return 'was not undone: its undo never ran';
  return action.undone.ok ? undefined : `was not undone: read back ${action.undone.observed}`;
}

/** Why a step proves nothing ("did not apply: …"), or undefined when it is proven or was skipped on purpose. */
export function unprovenWhy(action: ActionRecord): string | undefined {
  if (action.outcome === 'skipped') return undefined;
  // Both, for a step that failed halfway: what it left behind must be gone too.
  const [applied, undone] = [notApplied(action), notUndone(action)];
  return applied && undone ? `${applied}, and ${undone}` : (applied ?? undone);
}

/** What was read back for a fault, in one line: the reports' "applied / undone" column. */
export function proofLine(action: ActionRecord): string {
  const seen = (observation: Observation | undefined, missing: string): string =>
    observation ? `${observation.ok ? '' : 'NOT CONFIRMED: '}${observation.observed}` : missing;
  const applied = seen(action.applied, action.outcome === 'done' ? 'not read back' : action.outcome);
  const undone = action.undoable ? seen(action.undone, 'NOT undone') : 'nothing to undo';
  return `applied: ${applied}; undone: ${undone}`;
}

export function judge(journal: Journal): { verdict: Verdict; reason: string } {
  const violations = journal.probes.filter((probe) => !probe.ok);
  const violatedBy = violations.map((probe) => `${probe.probe} [${probe.phase}] = ${probe.value}`).join('; ');
  if (journal.status === 'interrupted') return { verdict: 'interrupted', reason: 'stopped on purpose; rollbacks ran' };
  if (journal.status === 'failed') return { verdict: 'not-steady', reason: violatedBy || 'the hypothesis was not checked' };
  // A violation is a finding even when a fault is unproven: the system misbehaved under what did happen.
  if (violations.length > 0) return { verdict: 'violated', reason: violatedBy };
  const unproven = journal.actions.filter((action) => unprovenWhy(action) !== undefined);
  const [first] = unproven;
  if (first) {
    const more = unproven.length > 1 ? ` (and ${unproven.length - 1} more)` : '';
    return { verdict: 'unproven', reason: `${faultName(first)} ${unprovenWhy(first)}${more}` };
  }
  // Skips are the scenario's own blast-radius rule (keepAlive): soak and random-mix
  // plan overlapping faults and rely on it to drop those that would take too many
  // instances at once, so a skip does not unprove the run; it is counted in the
  // reason and shown in the reports. A run whose every fault was skipped proves nothing.
  const skipped = journal.actions.filter((action) => action.outcome === 'skipped').length;
  if (journal.actions.length === 0 || skipped === journal.actions.length) {
    return { verdict: 'unproven', reason: 'no planned fault was applied' };
  }
  if (!['before', 'after'].every((phase) => journal.probes.some((probe) => probe.phase === phase))) {
    return { verdict: 'unproven', reason: 'the hypothesis was not checked both before and after the faults' };
  }
  return { verdict: 'held', reason: skipped > 0 ? `${skipped} of ${journal.actions.length} faults skipped by the blast-radius rule` : '' };
}
