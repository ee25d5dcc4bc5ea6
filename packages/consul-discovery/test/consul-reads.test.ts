import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ConsulError, ConsulHttp } from '../src/index.js';
import { eventually } from '../src/testing/index.js';
import { type DoubleAnswer, ConsulDouble } from './support/consul-double.js';

/**
 * ConsulHttp's reads (its own GETs, not the `consul` client's) against the
 * Consul double: what goes out on the wire, and how a missing key, a refusal
 * and silence read. No agent here: these run in `make check`.
 */
const doubles: ConsulDouble[] = [];
after(async () => {
  for (const double of doubles) await double.close();
});

async function consulAnswering(
  answer: DoubleAnswer,
  options: { token?: string; requestTimeoutMs?: number } = {},
): Promise<{ consul: ConsulHttp; double: ConsulDouble }> {
  const double = await ConsulDouble.start(() => answer);
  doubles.push(double);
  return { consul: new ConsulHttp({ address: double.address, env: {}, ...options }), double };
}

test('a health query sends each of its options: parameters, the token header and Cache-Control; it reads the index', async () => {
  const { consul, double } = await consulAnswering({ index: 42, instances: [['a', 1]] }, { token: 'secret-token' });
  const result = await consul
    .healthService({
      service: 'Hello Service',
      tags: ['v2', 'grpc'],
      dc: 'eu-1',
      near: '_agent',
      filter: 'Service.Meta.version == "2"',
      maxStaleMs: 30_000,
      cached: { maxAgeMs: 10_000, staleIfErrorMs: 300_000 },
      index: 5,
      waitMs: 60_000,
    })
    .finally(() => consul.close());
  assert.equal(result.index, 42);
  assert.deepEqual(
    result.instances.map((instance) => instance.id),
    ['a'],
  );
  const [request] = double.requests;
  assert.equal(decodeURIComponent(request?.path ?? ''), '/v1/health/service/Hello Service');
  assert.deepEqual(
    [...(request?.query ?? [])].sort(),
    [
      ['cached', ''],
      ['dc', 'eu-1'],
      ['filter', 'Service.Meta.version == "2"'],
      ['index', '5'],
      ['max_stale', '30000ms'],
      ['near', '_agent'],
      ['passing', 'true'],
      ['stale', ''],
      ['tag', 'grpc'],
      ['tag', 'v2'],
      ['wait', '60000ms'],
    ].sort(),
  );
  assert.equal(request?.headers['x-consul-token'], 'secret-token');
  assert.equal(request?.headers['cache-control'], 'max-age=10, stale-if-error=300');
});

test('a first query (index 0) does not block: no index, no wait', async () => {
  const { consul, double } = await consulAnswering({ index: 3, instances: [] });
  await consul.healthService({ service: 'S', index: 0, waitMs: 60_000 }).finally(() => consul.close());
  assert.deepEqual([...(double.requests[0]?.query ?? [])], [['passing', 'true']]);
});

test('kvGet: a missing key (404) is no value, with the index to block on until it exists', async () => {
  const { consul } = await consulAnswering({ status: 404, index: 9, body: '' });
  assert.deepEqual(await consul.kvGet('lab/missing').finally(() => consul.close()), { value: undefined, index: 9 });
});

test('a refusal is a ConsulError of its kind with the first line Consul said', async () => {
  const { consul } = await consulAnswering({ status: 403, body: 'ACL not found\nmore' });
  await assert.rejects(
    consul.kvGet('lab/k').finally(() => consul.close()),
    (error: unknown) =>
      error instanceof ConsulError &&
      error.kind === 'acl' &&
      error.statusCode === 403 &&
      /^Consul at http:\/\/127\.0\.0\.1:\d+ answered 403: ACL not found$/.test(error.message),
  );
});

test('a read that gets no answer ends at its deadline, unreachable, and its connection closes', async () => {
  const { consul, double } = await consulAnswering({ hang: true }, { requestTimeoutMs: 300 });
  const startedAt = Date.now();
  await assert.rejects(
    consul.kvKeys('lab/').finally(() => consul.close()),
    (error: unknown) =>
      error instanceof ConsulError && error.kind === 'unreachable' && /did not answer: request timed out \(300 ms\)$/.test(error.message),
  );
  const tookMs = Date.now() - startedAt;
  assert.ok(tookMs >= 290 && tookMs < 2_000, `ended after ${tookMs} ms`);
  assert.ok(await eventually(() => double.openSockets.size === 0, 20_000, 10), 'the connection closed');
});
