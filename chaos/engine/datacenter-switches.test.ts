import assert from 'node:assert/strict';
import { test } from 'node:test';
import { datacenterFailover, failoverLine, mergeSwitches, type ServedBySwitch } from './datacenter-switches.js';

/** dc1 served from 0; a fault of dc1 at 10 s; dc2 from 11.2 s; the undo took effect at 25 s; dc1 again from 27.5 s. */
const FAULT_AT = 10_000;
const UNDONE_AT = 25_000;
const served = (...entries: [string, number][]): ServedBySwitch[] => entries.map(([datacenter, at]) => ({ datacenter, at }));
const SWITCHES = served(['dc1', 0], ['dc2', 11_200], ['dc1', 27_500]);

test('time to fail over: the first switch away after the fault began; to fail back: the first switch back after the undo', () => {
  const failover = datacenterFailover('dc1', FAULT_AT, UNDONE_AT, SWITCHES);
  assert.deepEqual(failover, {
    datacenter: 'dc1',
    undone: true,
    servedByAtFault: 'dc1',
    failedOver: { to: 'dc2', afterMs: 1_200 },
    failedBack: { afterMs: 2_500 },
  });
  assert.equal(failoverLine(failover), 'failed over from dc1 to dc2 1.2 s after the fault began; failed back to dc1 2.5 s after the undo');
});

test('a flap back to the faulted datacenter before the undo is not the failback; the first switch away is the failover', () => {
  const flapping = served(['dc1', 0], ['dc1', 5_000], ['dc2', 12_000], ['dc1', 12_100], ['dc2', 12_200], ['dc1', 26_000], ['dc2', 30_000]);
  const failover = datacenterFailover('dc1', FAULT_AT, UNDONE_AT, flapping);
  assert.deepEqual(failover.failedOver, { to: 'dc2', afterMs: 2_000 });
  assert.deepEqual(failover.failedBack, { afterMs: 1_000 });
});

test('no switch, no figure: each case said in words, none a crash', () => {
  const cases: [ServedBySwitch[], number | undefined, string][] = [
    [served(['dc1', 0]), UNDONE_AT, 'NO failover seen: no correct answer from another datacenter than dc1 after the fault began'],
    [
      served(['dc1', 0], ['dc2', 11_000]),
      UNDONE_AT,
      'failed over from dc1 to dc2 1.0 s after the fault began; NO failback seen: no correct answer from dc1 after the undo',
    ],
    [
      served(['dc1', 0], ['dc2', 11_000]),
      undefined,
      'failed over from dc1 to dc2 1.0 s after the fault began; not undone: no failback to measure',
    ],
    [served(['dc2', 0], ['dc1', 30_000]), UNDONE_AT, 'no failover measured: dc2, not dc1, served the client when the fault began'],
    [[], UNDONE_AT, 'no failover measured: the client had not said which datacenter served it (no servedBy in its /stats)'],
  ];
  for (const [switches, undoneAt, line] of cases) {
    const failover = datacenterFailover('dc1', FAULT_AT, undoneAt, switches);
    assert.equal(failoverLine(failover), line);
  }
  assert.equal(datacenterFailover('dc1', FAULT_AT, UNDONE_AT, served(['dc1', 0])).failedOver, undefined);
});

test("the run keeps every switch it read once, oldest first, however the client's window of the latest moved", () => {
  const first = served(['dc1', 0], ['dc2', 11_200]);
  const second = served(['dc2', 11_200], ['dc1', 27_500]);
  assert.deepEqual(mergeSwitches(mergeSwitches([], first), second), SWITCHES);
  assert.deepEqual(mergeSwitches(SWITCHES, SWITCHES), SWITCHES, 'read twice, kept once');
});
