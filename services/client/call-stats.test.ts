import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceInstance } from '@grpc-consul-lab/consul-discovery';
import { parseStats, SERVED_BY_KEPT } from '../../packages/contracts/stats.js';
import { CallStats } from './call-stats.js';

const MINUTE = 60_000;

/** CallStats on a clock the test moves, with a retention of 10 minutes and 2 gone instances. */
function statsOnClock(): { stats: CallStats; advance: (ms: number) => void } {
  let now = 1_000_000;
  const stats = new CallStats({ retention: { goneForMs: 10 * MINUTE, maxGone: 2 }, now: () => now });
  return { stats, advance: (ms) => (now += ms) };
}

/** An instance as the resolver hands it over (in `datacenter`, when given). */
const resolved = (id: string, datacenter?: string): ServiceInstance => ({
  id,
  address: '127.0.0.1',
  port: 50051,
  tags: [],
  meta: {},
  node: `node-${datacenter ?? 'lab'}`,
  ...(datacenter !== undefined && { datacenter }),
  status: 'passing',
});
const sum = (values: Record<string, number>): number => Object.values(values).reduce((a, b) => a + b, 0);

test('an instance gone from the resolved set longer than the retention is folded into the totals', () => {
  const { stats, advance } = statsOnClock();
  stats.recordResolved([resolved('old'), resolved('kept')]);
  for (let i = 0; i < 5; i += 1) stats.recordOk('old', 1);
  stats.recordOk('kept', 1);
  stats.recordWrong('old', 'result 3 != 1 + 1', 1);
  stats.recordResolved([resolved('kept')]);

  advance(10 * MINUTE);
  assert.equal(stats.snapshot().byInstance.old, 5, 'kept for the whole retention');
  advance(1);
  const after = stats.snapshot();
  assert.deepEqual(after.byInstance, { kept: 1 });
  assert.deepEqual(Object.keys(after.firstOkAtByInstance), ['kept']);
  assert.deepEqual(Object.keys(after.lastOkAtByInstance), ['kept']);
  assert.deepEqual(after.forgotten, { instances: 1, ok: 5 });
  assert.equal(after.ok, 6, 'totals never shrink');
  assert.equal(after.wrong, 1);
  assert.equal(sum(after.byInstance) + after.forgotten.ok, after.ok);
});

test('a resolved instance keeps its figures however long it has not answered', () => {
  const { stats, advance } = statsOnClock();
  stats.recordResolved([resolved('quiet')]);
  stats.recordOk('quiet', 1);
  advance(60 * MINUTE);
  assert.equal(stats.snapshot().byInstance.quiet, 1);
});

test("a gone instance's time starts when it left the resolved set, not at its last answer", () => {
  const { stats, advance } = statsOnClock();
  stats.recordResolved([resolved('a')]);
  stats.recordOk('a', 1);
  advance(30 * MINUTE);
  stats.recordResolved([]);
  advance(9 * MINUTE);
  assert.equal(stats.snapshot().byInstance.a, 1);
  advance(1 * MINUTE + 1);
  assert.equal(stats.snapshot().byInstance.a, undefined);
});

test('an instance that answers without being resolved is forgotten the retention after its last answer', () => {
  const { stats, advance } = statsOnClock();
  stats.recordOk('stray', 1);
  advance(10 * MINUTE);
  stats.recordOk('stray', 1);
  advance(10 * MINUTE);
  assert.equal(stats.snapshot().byInstance.stray, 2);
  advance(1);
  assert.deepEqual(stats.snapshot().forgotten, { instances: 1, ok: 2 });
});

test('beyond the most recent gone instances, older ones are forgotten at once, resolved ones never', () => {
  const { stats, advance } = statsOnClock();
  const live = ['x', 'y', 'z'];
  stats.recordResolved(live.map((id) => resolved(id)));
  for (const id of live) stats.recordOk(id, 1);
  // Five replacements a second apart: each new instance answers, the one it replaces leaves the set.
  const gone: string[] = [];
  for (let i = 0; i < 5; i += 1) {
    advance(1_000);
    const replaced = live.shift() as string;
    gone.push(replaced);
    live.push(`new-${i}`);
    stats.recordResolved(live.map((id) => resolved(id)));
    stats.recordOk(`new-${i}`, 1);
  }
  const snapshot = stats.snapshot();
  assert.deepEqual(Object.keys(snapshot.byInstance).sort(), [...live, ...gone.slice(-2)].sort());
  assert.deepEqual(snapshot.forgotten, { instances: 3, ok: 3 });
  assert.equal(snapshot.ok, 8);
});

test('/metrics keeps exact totals and drops the series of a forgotten instance', async () => {
  const { stats, advance } = statsOnClock();
  stats.recordResolved([resolved('old')]);
  stats.recordOk('old', 1);
  stats.recordRecovered('old', 'Connection dropped');
  stats.recordOk('old', 1);
  stats.recordResolved([resolved('new')]);
  stats.recordOk('new', 1);
  advance(10 * MINUTE + 1);
  const metrics = await stats.registry.metrics();
  assert.match(metrics, /hello_client_calls_total\{outcome="ok",code="OK"\} 3/);
  assert.match(metrics, /hello_client_calls_total\{outcome="recovered",code="UNAVAILABLE"\} 1/);
  assert.match(metrics, /hello_client_instance_calls_total\{outcome="ok",instance="new"\} 1/);
  assert.doesNotMatch(metrics, /instance="old"/);
});

test("each instance's datacenter, from the resolver's instances, stays while its figures do", () => {
  const { stats, advance } = statsOnClock();
  stats.recordResolved([resolved('a', 'dc1'), resolved('b', 'dc2'), resolved('quiet', 'dc2')]);
  stats.recordOk('a', 1);
  stats.recordOk('b', 1);
  assert.deepEqual(stats.snapshot().datacenterByInstance, { a: 'dc1', b: 'dc2', quiet: 'dc2' });
  // a leaves the set (its datacenter lost): its figures, and so its datacenter, stay for the retention.
  stats.recordResolved([resolved('b', 'dc2')]);
  assert.deepEqual(stats.snapshot().datacenterByInstance, { a: 'dc1', b: 'dc2' }, 'quiet never answered: nothing to keep');
  advance(10 * MINUTE + 1);
  assert.deepEqual(stats.snapshot().datacenterByInstance, { b: 'dc2' });
  // Keys alone (a resolver that says no datacenter) keep what is known and add nothing.
  stats.recordResolved([resolved('b'), resolved('c')]);
  assert.deepEqual(stats.snapshot().datacenterByInstance, { b: 'dc2' });
});

test('calls count for the datacenter of the instance that answered; a failure with no instance counts for none', () => {
  const { stats } = statsOnClock();
  stats.recordResolved([resolved('a', 'dc1'), resolved('b', 'dc2')]);
  stats.recordOk('a', 1);
  stats.recordOk('a', 1);
  stats.recordOk('b', 1);
  stats.recordWrong('b', 'result 3 != 1 + 1', 1);
  stats.recordFailure('UNAVAILABLE', 'cut after its headers', 1, 'a');
  stats.recordFailure('DEADLINE_EXCEEDED', 'no instance answered', 1);
  stats.recordOk('stray', 1);
  const snapshot = stats.snapshot();
  assert.deepEqual(snapshot.byDatacenter, { dc1: { ok: 2, failed: 1, wrong: 0 }, dc2: { ok: 1, failed: 0, wrong: 1 } });
  assert.equal(snapshot.failed, 2, 'the total counts every failure');
  assert.equal(snapshot.ok, 4);
});

test('served-by: an entry each time a correct answer comes from another datacenter than the one before', () => {
  const { stats, advance } = statsOnClock();
  // statsOnClock's clock starts there.
  const start = 1_000_000;
  stats.recordResolved([resolved('a1', 'dc1'), resolved('a2', 'dc1'), resolved('b1', 'dc2')]);
  stats.recordOk('a1', 1);
  advance(10);
  stats.recordOk('a2', 1);
  stats.recordWrong('b1', 'result 3 != 1 + 1', 1);
  stats.recordFailure('UNAVAILABLE', 'cut', 1, 'b1');
  advance(10);
  stats.recordOk('stray', 1);
  assert.deepEqual(
    stats.snapshot().servedBy,
    [{ datacenter: 'dc1', at: start }],
    'wrong answers, failures and unknown instances switch nothing',
  );
  advance(1_000);
  stats.recordOk('b1', 1);
  advance(10);
  stats.recordOk('b1', 1);
  advance(2_000);
  stats.recordOk('a1', 1);
  assert.deepEqual(stats.snapshot().servedBy, [
    { datacenter: 'dc1', at: start },
    { datacenter: 'dc2', at: start + 1_020 },
    { datacenter: 'dc1', at: start + 3_030 },
  ]);
});

test('served-by keeps the latest SERVED_BY_KEPT switches, and a snapshot reads back through the contract', () => {
  const { stats, advance } = statsOnClock();
  stats.recordResolved([resolved('a', 'dc1'), resolved('b', 'dc2')]);
  for (let i = 0; i < SERVED_BY_KEPT + 5; i += 1) {
    advance(1);
    stats.recordOk(i % 2 === 0 ? 'a' : 'b', 1);
  }
  const snapshot = stats.snapshot();
  assert.equal(snapshot.servedBy.length, SERVED_BY_KEPT);
  assert.equal(snapshot.servedBy.at(-1)?.datacenter, 'dc1', 'the latest kept');
  assert.equal(snapshot.servedBy[0]?.at, 1_000_000 + 6, 'the oldest five dropped');
  const read = parseStats(JSON.parse(JSON.stringify(snapshot)));
  assert.ok(!(read instanceof Error), String(read));
  assert.deepEqual(read.servedBy, snapshot.servedBy);
  assert.deepEqual(read.byDatacenter, snapshot.byDatacenter);
});

test('a client that sends no datacenter fields still reads through the contract, with none', () => {
  const { stats } = statsOnClock();
  const { datacenterByInstance, byDatacenter, servedBy, ...older } = stats.snapshot();
  const read = parseStats(JSON.parse(JSON.stringify(older)));
  assert.ok(!(read instanceof Error), String(read));
  assert.deepEqual([read.datacenterByInstance, read.byDatacenter, read.servedBy], [{}, {}, []]);
  assert.deepEqual([datacenterByInstance, byDatacenter, servedBy], [{}, {}, []]);
});
