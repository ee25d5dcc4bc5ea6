import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sampleJournal } from '../test-support/sample-journal.js';
import { faultFigures, figuresByKind, percentiles, steadyLatency } from './fault-figures.js';
import { renderReport } from './html-report.js';

test("fault figures come from the journal: failures, time to the last failure, time to the replacement's first call", () => {
  const [figures] = faultFigures(sampleJournal());
  assert.equal(figures?.failures, 2);
  assert.equal(figures?.wrong, 0);
  assert.equal(figures?.lastFailureAfterMs, 1_000);
  assert.equal(figures?.replacementFirstCallAfterMs, 1_500);
  assert.equal(figures?.detectedAfterMs, 1_000, 'c left the resolved set in the first sample after the kill');
});

test('time to detect and to recover, p50/p99 per fault kind across its repeats', () => {
  const journal = sampleJournal();
  const html = renderReport(journal);
  assert.match(
    html,
    /<table id="by-kind">[\s\S]*<tr><td>replace<\/td><td>1\.0 s \/ 1\.0 s \(1\)<\/td><td>1\.5 s \/ 1\.5 s \(1\)<\/td><td>1502\.42 ms \/ 1502\.42 ms \(1\)<\/td><td>0 \/ 0 \(1\)<\/td><\/tr>/,
  );
  assert.deepEqual(percentiles([3_000, undefined, 1_000, 2_000]), { p50: 2_000, p99: 3_000, count: 3 });
  assert.equal(percentiles([undefined]), undefined);
});

test("latency p50/p99 of each fault's window against steady, and across a kind's repeats", () => {
  const journal = sampleJournal();
  const steady = steadyLatency(journal);
  assert.ok(steady && steady.calls === 500 && steady.p99 < 2.2, JSON.stringify(steady));
  const [figure] = faultFigures(journal);
  // 2,000 calls in the window from 10 s to the end, 30 of them 1.5 s (1.5 %): p99 is theirs, p50 steady's.
  assert.equal(figure?.latency?.calls, 2_000);
  assert.ok((figure?.latency?.p50 ?? 0) < 2.2, JSON.stringify(figure?.latency));
  assert.ok(Math.abs((figure?.latency?.p99 ?? 0) - 1_500) / 1_500 < 0.1, JSON.stringify(figure?.latency));
  const [kind] = figuresByKind(journal);
  assert.deepEqual(kind?.windowP99, { p50: figure?.latency?.p99, p99: figure?.latency?.p99, count: 1 });
  const html = renderReport(journal);
  assert.match(html, /<b id="steady-latency">2(\.\d+)? \/ 2(\.\d+)? ms<\/b> over 500 calls/);
});

test('the report names the verdict and carries the fault table and the chart', () => {
  const html = renderReport(sampleJournal());
  assert.match(html, /HYPOTHESIS HELD/);
  assert.match(
    html,
    /<td>#1<\/td><td>replace random instance \(SIGKILL\)<\/td><td>done<\/td><td class="proof">applied: hello-c gone; hello-d running; undone: nothing to undo<\/td><td>2<\/td><td>0<\/td><td>0<\/td><td>1\.0 s<\/td><td>1\.0 s<\/td><td>1\.5 s<\/td>/,
  );
  assert.ok((html.match(/class="calls"/g) ?? []).length >= 60, 'a bar per instance per second');
  assert.equal((html.match(/class="failed"/g) ?? []).length, 1, 'one second with failures');
  assert.equal((html.match(/class="fault"/g) ?? []).length, 1, 'one shaded fault window');
});

test('a fault whose read-back did not confirm it: the report says unproven, and why, and marks its row', () => {
  const journal = sampleJournal();
  const [action] = journal.actions;
  if (action) action.applied = { at: journal.startedAt, observed: 'hello-c running', ok: false };
  journal.verdict = 'unproven';
  journal.verdictReason = 'fault #1 replace c did not apply: read back hello-c running';
  const html = renderReport(journal);
  assert.match(
    html,
    /<span class="verdict unproven">UNPROVEN: A FAULT DID NOT APPLY<\/span> <span id="verdict-reason">fault #1 replace c did not apply: read back hello-c running<\/span>/,
  );
  assert.match(
    html,
    /<tr class="bad"><td>#1<\/td>.*<td class="proof">applied: NOT CONFIRMED: hello-c running; undone: nothing to undo<\/td>/,
  );
});

test("a fault that took out a datacenter: the report's table gives its time to fail over and to fail back, or says none was seen", () => {
  const journal = sampleJournal();
  const [action] = journal.actions;
  assert.ok(action);
  journal.actions.push(
    {
      ...action,
      datacenter: 'dc1',
      failover: {
        datacenter: 'dc1',
        undone: true,
        servedByAtFault: 'dc1',
        failedOver: { to: 'dc2', afterMs: 1_200 },
        failedBack: { afterMs: 2_500 },
      },
    },
    { ...action, index: 1, datacenter: 'dc1', failover: { datacenter: 'dc1', undone: true, servedByAtFault: 'dc1' } },
  );
  journal.actions.shift();
  const html = renderReport(journal);
  assert.match(
    html,
    /<tr data-failover="0"><td>#1<\/td><td>dc1<\/td><td>dc1<\/td><td>1\.2 s \(to dc2\)<\/td><td>2\.5 s<\/td><td>failed over from dc1 to dc2 1\.2 s after the fault began; failed back to dc1 2\.5 s after the undo<\/td><\/tr>/,
  );
  assert.match(
    html,
    /<tr data-failover="1"><td>#2<\/td><td>dc1<\/td><td>dc1<\/td><td>–<\/td><td>–<\/td><td>NO failover seen: no correct answer from another datacenter than dc1 after the fault began<\/td><\/tr>/,
  );
  assert.doesNotMatch(renderReport(sampleJournal()), /datacenter-failover/, 'no table for a run that took out no datacenter');
});
