import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { DEFAULT_CALL_POLICY, helloServiceConfig } from './service-config.js';

interface MethodConfig {
  readonly timeout: unknown;
  readonly retryPolicy?: unknown;
  readonly hedgingPolicy?: unknown;
}

const methodOf = (config: object): MethodConfig => (config as { methodConfig: MethodConfig[] }).methodConfig[0] as MethodConfig;

test('the deadline is a Duration object: 2,500 ms is 2 s + 500,000,000 ns (grpc-js reads "2.500s" as 2 s + 500 ns)', () => {
  assert.deepEqual(methodOf(helloServiceConfig({ ...DEFAULT_CALL_POLICY, deadlineMs: 2_500 })).timeout, { seconds: 2, nanos: 500_000_000 });
  assert.deepEqual(methodOf(helloServiceConfig({ ...DEFAULT_CALL_POLICY, deadlineMs: 800 })).timeout, { seconds: 0, nanos: 800_000_000 });
  assert.deepEqual(methodOf(helloServiceConfig()).timeout, { seconds: 5, nanos: 0 });
});

test('retries by default; hedging only when asked, never both', () => {
  const retrying = methodOf(helloServiceConfig());
  assert.ok(retrying.retryPolicy && !retrying.hedgingPolicy);
  const hedging = methodOf(helloServiceConfig({ ...DEFAULT_CALL_POLICY, hedgingDelayMs: 50, maxAttempts: 3 }));
  assert.ok(hedging.hedgingPolicy && !hedging.retryPolicy);
});

test('retry throttling only when asked, in the form grpc-js accepts', () => {
  // grpc-js's own validator, the one the channel runs on the config: a form it does not take throws here.
  const { validateServiceConfig } = createRequire(import.meta.url)('@grpc/grpc-js/build/src/service-config.js') as {
    validateServiceConfig(config: object): { retryThrottling?: unknown };
  };
  assert.equal(validateServiceConfig(helloServiceConfig()).retryThrottling, undefined);
  const throttled = helloServiceConfig({ ...DEFAULT_CALL_POLICY, retryThrottling: { maxTokens: 10, tokenRatio: 0.1 } });
  assert.deepEqual(validateServiceConfig(throttled).retryThrottling, { maxTokens: 10, tokenRatio: 0.1 });
});
