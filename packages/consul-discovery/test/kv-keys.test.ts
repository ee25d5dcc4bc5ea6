import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ConsulHttp } from '../src/index.js';
import { ConsulDouble } from './support/consul-double.js';

/**
 * kvKeys against the Consul double: what goes out (one `?keys` request for the
 * prefix) and how each answer reads. No agent here: these run in `make check`.
 */
const doubles: ConsulDouble[] = [];
after(async () => {
  for (const double of doubles) await double.close();
});

async function keysFrom(answer: { status?: number; body: string }): Promise<{ keys: Promise<string[]>; double: ConsulDouble }> {
  const double = await ConsulDouble.start(() => answer);
  doubles.push(double);
  const consul = new ConsulHttp({ address: double.address, env: {} });
  const keys = consul.kvKeys('lab/faults/').finally(() => consul.close());
  return { keys, double };
}

test('kvKeys lists the keys under a prefix, sorted, in one ?keys request', async () => {
  const { keys, double } = await keysFrom({ body: JSON.stringify(['lab/faults/b', 'lab/faults/a']) });
  assert.deepEqual(await keys, ['lab/faults/a', 'lab/faults/b']);
  assert.equal(double.requests.length, 1);
  assert.equal(decodeURIComponent(double.requests[0]?.path ?? ''), '/v1/kv/lab/faults/');
  assert.ok(double.requests[0]?.query.has('keys'), 'a key listing, not a read of the values');
});

test('kvKeys: a prefix without keys (Consul answers 404) is an empty list', async () => {
  const { keys } = await keysFrom({ status: 404, body: '' });
  assert.deepEqual(await keys, []);
});

test('kvKeys: a body that is not a list of keys is an error naming the prefix', async () => {
  const { keys } = await keysFrom({ body: JSON.stringify({ Key: 'lab/faults/a' }) });
  await assert.rejects(keys, /key listing of lab\/faults\/ with a body that is not a list of keys/);
});
