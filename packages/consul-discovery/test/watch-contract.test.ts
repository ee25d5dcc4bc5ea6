import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { consulDiscoveryOptions } from '../src/discovery/consul-resolver.js';
import { ConsulDouble } from './support/consul-double.js';
import { recordingResolver } from './support/recording-listener.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The watch's contract with Consul's blocking-query rules, on a Consul double
 * for the answers a real agent cannot give on demand. (Real-agent behaviour is
 * in resolver.test.ts.)
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

test('an index that goes backwards starts over from 0 (a query that does not block), and an index is never sent below 1', async () => {
  // 1: first query, index 10. 2: blocking on 10, answers 5 (backwards). 3: must not block; answers 0.
  // 4: must block on 1, not 0. 5: hang (the test is over).
  const indexes = [10, 5, 0, 8];
  const consul = await double((n) => (n <= indexes.length ? { index: indexes[n - 1], instances: [['a', 1]] } : { hang: true }));
  const { resolver } = recordingResolver(`consul://${consul.address}/S`);
  resolver.updateResolution();
  await sleep(600);
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
  await sleep(400);
  resolver.destroy();
  assert.deepEqual(
    pushes.map((push) => ('error' in push ? push.error.replace(/127\.0\.0\.1:\d+/, 'consul') : `endpoints ${push.endpoints}`)),
    [
      'Consul query for S failed: Consul at http://consul sent a body that cannot be read: Unexpected token \'<\', "<html>prox"... is not valid JSON',
      'Consul query for S failed: Consul at http://consul answered a health query with a body that is not a list',
    ],
  );
});

test('destroy aborts the query in flight: the connection to Consul closes at once', async () => {
  const consul = await double(() => ({ hang: true }));
  const { resolver } = recordingResolver(`consul://${consul.address}/S`);
  resolver.updateResolution();
  await sleep(200);
  assert.equal(consul.openSockets.size, 1, 'one query in flight');
  resolver.destroy();
  await sleep(200);
  assert.equal(consul.openSockets.size, 0, 'the query was aborted and its connection closed');
});
