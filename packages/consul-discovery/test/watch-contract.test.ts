import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { consulDiscoveryOptions } from '../src/discovery/consul-resolver.js';
import { ConsulDouble, type DoubleAnswer } from './support/consul-double.js';
import { type Push, recordingResolver } from './support/recording-listener.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../src/testing/eventually.js';

/**
 * The watch's contract with Consul's blocking-query rules, on a Consul double
 * for the answers a real agent cannot give on demand. (Real-agent behaviour is
 * in resolver.test.ts.) A test that reads what was pushed waits until Consul
 * is asked again (a query goes out once the answer before it is handled), not
 * for a fixed time, its limit a safety net; the floor and backoff tests count
 * queries over a fixed window.
 */
const doubles: ConsulDouble[] = [];
after(async () => {
  for (const double of doubles) await double.close();
});

async function double(answer: Parameters<typeof ConsulDouble.start>[0]): Promise<ConsulDouble> {
  const started = await ConsulDouble.start(answer);
  doubles.push(started);
  return started;
}

const indexOf = (query: URLSearchParams): string => query.get('index') ?? 'none';

/** Instances as Consul lists them, written as their ports: "31" is instance c on port 3, then a on port 1. */
const listed = (ports: string): [string, number][] => [...ports].map((port) => [String.fromCharCode(96 + Number(port)), Number(port)]);

/** Answers these lists in turn (the n-th with index n), then hangs. */
const inTurn =
  (lists: readonly string[]) =>
  (n: number): DoubleAnswer =>
    n <= lists.length ? { index: n, instances: listed(lists[n - 1] ?? '') } : { hang: true };

/** Each push as its endpoints' ports in order ("312"), or its error. */
const portsOf = (pushes: readonly Push[]): string[] =>
  pushes.map((push) => ('endpoints' in push ? push.endpoints.map((endpoint) => endpoint.split(':')[1]).join('') : push.error));

/**
 * What a resolver for `S<query>` pushed (as portsOf) against a Consul answering
 * `lists` in turn: read once it has asked again after the last (an answer is
 * handled, its push told, before the next query goes out).
 */
async function pushedFor(query: string, lists: readonly string[]): Promise<{ pushed: string[]; consul: ConsulDouble }> {
  const consul = await double(inTurn(lists));
  const { resolver, pushes } = recordingResolver(`consul://${consul.address}/S${query}`);
  resolver.updateResolution();
  assert.ok(await eventually(() => consul.requests.length > lists.length, 20_000, 10), 'every answer was handled');
  resolver.destroy();
  return { pushed: portsOf(pushes), consul };
}

test('an index that goes backwards starts over from 0 (a query that does not block), and an index is never sent below 1', async () => {
  // 1: first query, index 10. 2: blocking on 10, answers 5 (backwards). 3: must not block; answers 0.
  // 4: must block on 1, not 0. 5: hang (the test is over).
  const indexes = [10, 5, 0, 8];
  const consul = await double((n) => (n <= indexes.length ? { index: indexes[n - 1], instances: [['a', 1]] } : { hang: true }));
  const { resolver } = recordingResolver(`consul://${consul.address}/S`);
  resolver.updateResolution();
  assert.ok(await eventually(() => consul.requests.length >= 5, 20_000, 10), `requests: ${consul.requests.length}`);
  resolver.destroy();
  assert.deepEqual(
    consul.requests.slice(0, 5).map((r) => indexOf(r.query)),
    ['none', '10', 'none', '1', '8'],
  );
  assert.ok(
    consul.requests.slice(0, 5).every((r) => r.query.get('wait') === (r.query.has('index') ? '300000ms' : null)),
    'wait only with an index',
  );
});

test('a floor between queries: a Consul that answers at once with a new index every time is asked at most every 50 ms, and the same set is pushed once', async () => {
  const consul = await double((n) => ({ index: n, instances: [['a', 1]] }));
  const { resolver, pushes } = recordingResolver(`consul://${consul.address}/S`);
  resolver.updateResolution();
  await sleep(1_000);
  resolver.destroy();
  const queries = consul.requests.length;
  assert.ok(queries >= 10 && queries <= 21, `queries in 1 s: ${queries}`);
  assert.equal(pushes.length, 1, JSON.stringify(pushes));
});

test('errors: backoff with jitter that grows, the last good set kept (no empty push), one push for repeated identical errors', async () => {
  const consul = await double((n) => (n === 1 ? { index: 3, instances: [['a', 1]] } : { status: 500, body: 'No cluster leader' }));
  const { resolver, pushes } = recordingResolver(`consul://${consul.address}/S`);
  resolver.updateResolution();
  await sleep(2_500);
  resolver.destroy();
  assert.ok(consul.requests.length >= 4, `requests: ${consul.requests.length}`);
  const gaps = consul.requests.slice(1).map((r, i) => r.at - (consul.requests[i]?.at ?? 0));
  // Backoff 200 ms doubling, ±30 % jitter: every gap after the first error is longer than the one before.
  for (let i = 2; i < gaps.length; i += 1) assert.ok((gaps[i] ?? 0) > (gaps[i - 1] ?? 0), `gaps grow: ${gaps}`);
  assert.equal(pushes.length, 2, JSON.stringify(pushes));
  assert.deepEqual((pushes[0] as { endpoints: string[] }).endpoints, ['127.0.0.1:1']);
  assert.match(
    (pushes[1] as { error: string }).error,
    /^Consul query for S failed: Consul at http:\/\/127\.0\.0\.1:\d+ answered 500: No cluster leader$/,
  );
});

test('a body that is not what the API documents is an error, not an empty set', async () => {
  const consul = await double((n) =>
    n === 1 ? { body: '<html>proxy error</html>' } : n === 2 ? { body: '{"not":"a list"}' } : { hang: true },
  );
  const { resolver, pushes } = recordingResolver(
    `consul://${consul.address}/S`,
    consulDiscoveryOptions({ tuning: { backoff: { initialMs: 50, maxMs: 50 } } }),
  );
  resolver.updateResolution();
  // The third query hangs: both answers were handled.
  assert.ok(await eventually(() => consul.requests.length >= 3, 20_000, 10), `requests: ${consul.requests.length}`);
  resolver.destroy();
  assert.deepEqual(
    pushes.map((push) => ('error' in push ? push.error.replace(/127\.0\.0\.1:\d+/, 'consul') : `endpoints ${push.endpoints}`)),
    [
      'Consul query for S failed: Consul at http://consul sent a body that cannot be read: Unexpected token \'<\', "<html>prox"... is not valid JSON',
      'Consul query for S failed: Consul at http://consul answered a health query with a body that is not a list',
    ],
  );
});

test('destroy aborts the query in flight: the connection to Consul closes, not held for the query', async () => {
  const consul = await double(() => ({ hang: true }));
  const { resolver } = recordingResolver(`consul://${consul.address}/S`);
  resolver.updateResolution();
  assert.ok(await eventually(() => consul.openSockets.size === 1, 20_000, 10), 'one query in flight');
  resolver.destroy();
  assert.ok(await eventually(() => consul.openSockets.size === 0, 20_000, 10), 'the query was aborted and its connection closed');
});

test('after an error, the same set as before is pushed again: the channel and onEvent hear that the error is over (regression)', async () => {
  // The set, an error, then the same set (listed in another order) at every later answer.
  const consul = await double((n) =>
    n === 1
      ? { index: 3, instances: listed('12') }
      : n === 2
        ? { status: 500, body: 'No cluster leader' }
        : { index: 4, instances: listed('21') },
  );
  const events: string[] = [];
  const { resolver, pushes } = recordingResolver(
    `consul://${consul.address}/S`,
    consulDiscoveryOptions({ onEvent: (event) => events.push(event.type), tuning: { backoff: { initialMs: 50, maxMs: 50 } } }),
  );
  resolver.updateResolution();
  // The set, the error, the same set again, and three answers after it that must not be pushed.
  assert.ok(await eventually(() => consul.requests.length >= 6, 20_000, 10), `requests: ${consul.requests.length}`);
  resolver.destroy();
  assert.deepEqual(portsOf(pushes).slice(0, 3), [
    '12',
    'Consul query for S failed: Consul at http://' + consul.address + ' answered 500: No cluster leader',
    '12',
  ]);
  assert.equal(pushes.length, 3, 'once again, not at every answer after');
  assert.deepEqual(events, ['instances', 'error', 'instances']);
});

test("near: Consul's order is kept (nearest first), and a new order alone is pushed; without near the set is sorted", async () => {
  const answers = ['312', '312', '132'];
  const near = await pushedFor('?near=_agent', answers);
  assert.equal(near.consul.requests[0]?.query.get('near'), '_agent');
  assert.deepEqual(near.pushed, ['312', '132']);
  assert.deepEqual((await pushedFor('', answers)).pushed, ['123']);
});

test("limit=N: the first N instances in Consul's order; with near, the nearest N", async () => {
  const answers = ['312', '231'];
  assert.deepEqual((await pushedFor('?near=_agent&limit=2', answers)).pushed, ['31', '23']);
  // Without near: the first two Consul listed, then sorted.
  assert.deepEqual((await pushedFor('?limit=2', answers)).pushed, ['13', '23']);
});

test('an empty answer after the index went backwards is held back for the grace period, asked again meanwhile without blocking', async () => {
  // 1: the set at index 10. 2: blocking on 10, an empty answer at index 6 (Consul restarted and lost
  // its registrations): held back. From then on empty answers at once, the n-th at index 4 + n.
  // With a grace period of 1.5 s, the watch asks again every second, without blocking: the
  // third query at 1 s (still held back), the fourth at 2 s (pushed), and the fifth blocks again.
  const graceMs = 1_500;
  const consul = await double((n) => ({ index: n === 1 ? 10 : 4 + n, instances: listed(n === 1 ? '1' : '') }));
  const { resolver, pushes } = recordingResolver(
    `consul://${consul.address}/S`,
    consulDiscoveryOptions({ tuning: { emptyAfterRestartGraceMs: graceMs } }),
  );
  resolver.updateResolution();
  // The fifth query went out: the fourth answer was handled.
  assert.ok(await eventually(() => consul.requests.length >= 5, 20_000, 10), `requests: ${consul.requests.length}`);
  resolver.destroy();
  assert.deepEqual(
    consul.requests.slice(0, 5).map((r) => indexOf(r.query)),
    ['none', '10', 'none', 'none', '8'],
  );
  assert.equal(portsOf(pushes)[0], '1');
  const emptyPush = pushes[1];
  assert.ok(emptyPush !== undefined && 'endpoints' in emptyPush && emptyPush.endpoints.length === 0, JSON.stringify(pushes));
  const heldMs = emptyPush.at - (consul.requests[1]?.at ?? 0);
  assert.ok(heldMs >= graceMs, `the empty set was pushed ${heldMs} ms after the first empty answer`);
});
