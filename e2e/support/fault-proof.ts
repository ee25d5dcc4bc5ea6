import assert from 'node:assert/strict';
import type { Journal, Verdict } from '../../chaos/engine/journal.js';
import { faultName, proofLine, unprovenWhy } from '../../chaos/engine/verdict.js';
import { planScenario } from '../../chaos/scenario/plan.js';

/**
 * A scenario's counters prove nothing unless its faults happened: this
 * asserts, from the journal alone, that every planned fault was applied and
 * (when it left something to undo) undone, each confirmed by what the runner
 * read back from Docker or Consul; that the hypothesis was checked before
 * and after; and the run's verdict.
 */
export interface FaultProofOptions {
  /** The verdict the test means: 'violated' for a scenario meant to break the hypothesis. */
  readonly verdict?: Verdict;
  /** The scenario overlaps faults and relies on the blast-radius rule to skip some (random-mix, soak). */
  readonly skipsAllowed?: boolean;
  /** Names the run in the messages; the scenario's title unless given. */
  readonly name?: string;
}

export function assertFaultsProven(journal: Journal, options: FaultProofOptions = {}): void {
  const { verdict = 'held', skipsAllowed = false, name = journal.scenario.title } = options;
  const faults = journal.actions.map((action) => `${faultName(action)}: ${action.outcome}; ${proofLine(action)}`).join('\n');
  const say = (what: string): string => `[${name}] ${what}; verdict ${journal.verdict} (${journal.verdictReason}); faults:\n${faults}`;
  const interrupted = verdict === 'interrupted';
  if (!interrupted) {
    // An interrupted run stops starting faults; any other tried every step of its plan.
    assert.ok(journal.scenario.parsed, say('the journal keeps the scenario it ran'));
    const planned = planScenario(journal.scenario.parsed, journal.seed).steps.length;
    assert.equal(journal.actions.length, planned, say(`every one of the ${planned} planned faults was tried`));
  }
  for (const action of journal.actions) {
    if (action.outcome === 'skipped') {
      assert.ok(skipsAllowed, say(`${faultName(action)} was skipped (${action.detail})`));
      continue;
    }
    assert.equal(action.applied?.ok, true, say(`${faultName(action)} read back applied`));
    if (action.undoable) assert.equal(action.undone?.ok, true, say(`${faultName(action)} read back undone`));
    assert.equal(unprovenWhy(action), undefined, say(`${faultName(action)} proven`));
  }
  assert.ok(
    journal.actions.some((action) => action.outcome !== 'skipped'),
    say('at least one fault applied'),
  );
  const phases = interrupted ? ['before'] : ['before', 'after'];
  for (const phase of phases) {
    assert.ok(
      journal.probes.some((probe) => probe.phase === phase),
      say(`the hypothesis was checked ${phase} the faults`),
    );
  }
  assert.equal(journal.verdict, verdict, say('the verdict'));
}
