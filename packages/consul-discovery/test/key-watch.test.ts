import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '../src/testing/eventually.js';
import { resolveConnection } from '../src/consul/connection.js';
import { DEFAULT_WATCH_TUNING } from '../src/discovery/watch-tuning.js';
import { sharedKeyWatches } from '../src/discovery/key-watch.js';
import { ConsulDouble, type DoubleAnswer } from './support/consul-double.js';

/**
 * The KV watch's own rule for what it tells, on a Consul double (the index
 * rules it shares with the health watch are in watch-contract.test.ts; the
 * service config it feeds, on a real agent, in kv-service-config.test.ts).
 */
const holding = (value: string): string => JSON.stringify([{ Key: 'k', Value: Buffer.from(value).toString('base64') }]);

test('the KV watch tells an unchanged value once, and again after an error: whoever was told the error must hear it is over', async () => {
  const answers: DoubleAnswer[] = [
    { index: 3, body: holding('a') },
    { index: 4, body: holding('a') },
    { status: 500, body: 'No cluster leader' },
    { index: 5, body: holding('a') },
  ];
  const consul = await ConsulDouble.start((n) => answers[n - 1] ?? { hang: true });
  const told: string[] = [];
  const subscription = sharedKeyWatches.subscribe(
    resolveConnection({ address: consul.address, env: {} }),
    'k',
    (event) => told.push(event.kind === 'value' ? `value ${event.value}` : 'error'),
    { ...DEFAULT_WATCH_TUNING, backoff: { initialMs: 50, maxMs: 50 } },
  );
  assert.ok(await eventually(() => consul.requests.length >= 5, 20_000, 10), `requests: ${consul.requests.length}`);
  subscription.unsubscribe();
  await consul.close();
  assert.equal(consul.requests.length, 5, 'four answers, then the fifth query left hanging');
  assert.deepEqual(told, ['value a', 'error', 'value a']);
});
