import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketOf, countsBetween, LatencyHistogram, quantileMs, totalOf, upperBoundMs } from './latency-histogram.js';

test('a latency falls in the first bucket whose upper bound is at least it, and bounds are within ~9 % of it', () => {
  for (const latency of [0.05, 0.1, 0.3, 1, 2.5, 9.87, 300, 5_000]) {
    const upper = upperBoundMs(bucketOf(latency));
    assert.ok(upper >= latency - 1e-9, `${latency} <= ${upper}`);
    assert.ok(latency <= 0.1 || upper <= latency * 1.0906, `${upper} within 9.1 % of ${latency}`);
  }
});

test("a window's quantiles come from the difference of two cumulative readings", () => {
  const histogram = new LatencyHistogram();
  for (let i = 0; i < 1_000; i += 1) histogram.record(2);
  const steady = histogram.snapshot();
  // The fault window: 90 fast calls and 10 slow ones.
  for (let i = 0; i < 90; i += 1) histogram.record(2);
  for (let i = 0; i < 10; i += 1) histogram.record(300);
  const window = countsBetween(steady, histogram.snapshot());
  assert.equal(totalOf(window), 100);
  assert.ok(Math.abs((quantileMs(window, 0.5) ?? 0) - 2) / 2 < 0.1, 'p50 about 2 ms');
  assert.ok(Math.abs((quantileMs(window, 0.99) ?? 0) - 300) / 300 < 0.1, 'p99 about 300 ms');
  // Over everything, the slow calls are under 1 %: p99 stays fast.
  assert.ok((quantileMs(histogram.snapshot(), 0.99) ?? 0) < 3);
  assert.equal(quantileMs({}, 0.99), undefined);
});
