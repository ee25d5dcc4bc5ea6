import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serviceConfigFor } from '../src/discovery/load-balancing-default.js';

/** The service config the resolver hands grpc-js, from the channel's own. (Calls through it: resolver.test.ts.) */
const value = (result: ReturnType<typeof serviceConfigFor>): unknown => (result?.ok ? result.value : result);

test('a channel without a service config gets round robin', () => {
  assert.deepEqual(value(serviceConfigFor(undefined)), { loadBalancingConfig: [{ round_robin: {} }], methodConfig: [] });
});

test('a service config with methods only keeps them and gets round robin, its timeouts as grpc-js calls read them', () => {
  const retry = { maxAttempts: 3, initialBackoff: '0.1s', maxBackoff: '1s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] };
  const channel = JSON.stringify({
    methodConfig: [
      { name: [{ service: 'example.Echo' }], retryPolicy: retry, timeout: '1.5s' },
      { name: [{}], timeout: { seconds: 2, nanos: 0 } },
    ],
    retryThrottling: { maxTokens: 10, tokenRatio: 0.1 },
  });
  assert.deepEqual(value(serviceConfigFor(channel)), {
    loadBalancingConfig: [{ round_robin: {} }],
    methodConfig: [
      { name: [{ service: 'example.Echo' }], retryPolicy: retry, timeout: { seconds: 1, nanos: 500_000_000 } },
      { name: [{}], timeout: { seconds: 2, nanos: 0 } },
    ],
    retryThrottling: { maxTokens: 10, tokenRatio: 0.1 },
  });
  assert.deepEqual(value(serviceConfigFor('{}')), { loadBalancingConfig: [{ round_robin: {} }], methodConfig: [] });
});

test("a service config that names a policy, or is not JSON, is the channel's own: the resolver gives none (null)", () => {
  assert.equal(serviceConfigFor(JSON.stringify({ loadBalancingConfig: [{ pick_first: {} }] })), null);
  assert.equal(serviceConfigFor(JSON.stringify({ loadBalancingPolicy: 'pick_first', methodConfig: [] })), null);
  // grpc-js refuses it itself, when the client is made.
  assert.equal(serviceConfigFor('{not json'), null);
});
