import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sampleJournal } from '../test-support/sample-journal.js';
import { renderJunit } from './junit-report.js';

const cases = (xml: string): { name: string; body: string }[] =>
  [...xml.matchAll(/<testcase [^>]*name="([^"]*)"[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)].map((match) => ({
    name: match[1] ?? '',
    body: match[2] ?? '',
  }));

test('JUnit: the hypothesis before and after, and one case per fault, each passing when the run held', () => {
  const xml = renderJunit(sampleJournal());
  assert.match(xml, /<testsuite name="chaos: Rolling kill \(sample\) \(seed 7\)" tests="3" failures="0"/);
  assert.deepEqual(
    cases(xml).map((entry) => entry.name),
    ['steady state before the faults', '#1 replace random instance (SIGKILL)', 'steady state after the faults'],
  );
  assert.match(cases(xml)[0]?.body ?? '', /<system-out><!\[CDATA\[ok wrong-results: 0\]\]><\/system-out>/);
  assert.match(
    cases(xml)[1]?.body ?? '',
    /<system-out><!\[CDATA\[c -> d\napplied: hello-c gone; hello-d running; undone: nothing to undo\ncalls failed 2, wrong 0, recovered 0 while it was the latest fault; out of the resolver's set after 1\.0 s, replacement's first call after 1\.5 s; latency p50 \/ p99 2\.07 \/ 1502\.42 ms \(steady 2\.07 \/ 2\.07 ms\)\]\]><\/system-out>/,
  );
});

test('JUnit: a fault during which the hypothesis was violated, one that could not be applied, and one not read back undone, are failures naming why', () => {
  const journal = sampleJournal();
  const start = journal.actions[0]?.startedAt ?? 0;
  journal.probes.push({
    phase: 'during',
    at: start + 1_000,
    probe: 'success-ratio',
    ok: false,
    value: '0.99 (198 ok of 200)',
    expected: '>= 1',
  });
  journal.actions.push({
    ...(journal.actions[0] as (typeof journal.actions)[number]),
    index: 1,
    startedAt: start + 15_000,
    outcome: 'failed',
    detail: 'no such container',
  });
  journal.actions.push({
    ...(journal.actions[0] as (typeof journal.actions)[number]),
    index: 2,
    kind: 'pause',
    targets: ['b'],
    startedAt: start + 16_000,
    undoable: true,
    undone: { at: start + 17_000, observed: 'hello-b paused', ok: false },
  });
  const xml = renderJunit(journal);
  assert.match(xml, /tests="5" failures="3"/);
  const [, first, second, third] = cases(xml);
  assert.match(
    first?.body ?? '',
    /<failure message="success-ratio \[during\] = 0.99 \(198 ok of 200\) \(expected >= 1\)" type="hypothesis"\/>/,
  );
  assert.match(second?.body ?? '', /<failure message="fault #2 replace c did not apply: no such container" type="fault"\/>/);
  assert.match(third?.body ?? '', /<failure message="fault #3 pause b was not undone: read back hello-b paused" type="fault"\/>/);
  assert.match(third?.body ?? '', /undone: NOT CONFIRMED: hello-b paused/);
});

test("JUnit: a fault that took out a datacenter says its time to fail over and to fail back in its case's output", () => {
  const journal = sampleJournal();
  const [action] = journal.actions;
  assert.ok(action);
  action.datacenter = 'dc1';
  action.failover = { datacenter: 'dc1', undone: true, servedByAtFault: 'dc1', failedOver: { to: 'dc2', afterMs: 900 } };
  const body = cases(renderJunit(journal))[1]?.body ?? '';
  assert.match(
    body,
    /\(steady 2\.07 \/ 2\.07 ms\)\nfailed over from dc1 to dc2 0\.9 s after the fault began; NO failback seen: no correct answer from dc1 after the undo\]\]><\/system-out>/,
  );
  assert.doesNotMatch(body, /<failure/, 'a finding, not a failed case');
});
