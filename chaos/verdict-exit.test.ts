import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judge } from './engine/verdict.js';
import { sampleJournal } from './test-support/sample-journal.js';
import { verdictExit } from './verdict-exit.js';

/** How `make chaos` ends a finished run, from its journal: one line per thing to look at, and the exit code. */
const ended = (change: (journal: ReturnType<typeof sampleJournal>) => void) => {
  const journal = sampleJournal();
  change(journal);
  Object.assign(journal, (({ verdict, reason }) => ({ verdict, verdictReason: reason }))(judge(journal)));
  return verdictExit(journal, 'files');
};

test('held: exit 0, nothing on stderr', () => {
  assert.deepEqual(
    ended(() => undefined),
    { out: 'verdict: hypothesis held; files', err: [], code: 0 },
  );
});

test('a fault whose read-back did not show it: exit 4, one line naming the fault', () => {
  const end = ended((journal) => {
    const [action] = journal.actions;
    if (action) action.applied = { at: 0, observed: 'hello-c running', ok: false };
  });
  assert.deepEqual(end, {
    out: 'verdict: UNPROVEN; files',
    err: ['fault #1 replace c did not apply: read back hello-c running'],
    code: 4,
  });
});

test('a violated hypothesis: exit 1, whatever the faults; a rollback that failed: exit 1, named', () => {
  const violated = ended((journal) => {
    journal.probes.push({ phase: 'after', at: 0, probe: 'success-ratio', ok: false, value: '0.5', expected: '>= 1' });
    const [action] = journal.actions;
    if (action) action.outcome = 'failed';
  });
  assert.deepEqual([violated.out, violated.code], ['verdict: HYPOTHESIS VIOLATED by success-ratio [after] = 0.5; files', 1]);
  const stuck = ended((journal) => journal.rollbacks.push({ description: 'unpause hello-b', at: 0, outcome: 'failed: gone' }));
  assert.deepEqual([stuck.err, stuck.code], [['NOT undone: unpause hello-b (failed: gone); check it by hand'], 1]);
});

test('a step that failed halfway and whose undo did not read back: both named in the one line', () => {
  const end = ended((journal) => {
    const [action] = journal.actions;
    if (!action) return;
    Object.assign(action, { outcome: 'failed', detail: 'no such network', undoable: true });
    action.undone = { at: 0, observed: 'hello-c on none of front', ok: false };
  });
  assert.deepEqual(end.err, ['fault #1 replace c did not apply: no such network, and was not undone: read back hello-c on none of front']);
  assert.equal(end.code, 4);
});
