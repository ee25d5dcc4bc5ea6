import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { CallStats, quantile } from './call-stats.js';
import { startStatsServer } from './stats-server.js';

test('/stats serves the counters as JSON and /metrics as Prometheus text', async () => {
  const stats = new CallStats();
  stats.recordOk('a', 2);
  stats.recordOk('a', 4);
  stats.recordOk('b', 6);
  stats.recordFailure('UNAVAILABLE', 'gone', 10);
  stats.recordWrong('b', 'result 3 != 1 + 1', 1);
  stats.recordRecovered('a', 'Connection dropped');
  const server = startStatsServer({ stats, port: 0, onListening: () => undefined });
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const json = (await (await fetch(`${base}/stats`)).json()) as Record<string, unknown>;
    assert.equal(json.ok, 3);
    assert.equal(json.failed, 1);
    assert.equal(json.wrong, 1);
    assert.equal(json.total, 5);
    assert.equal(json.recovered, 1, 'a call cut after its headers and answered on the second try');
    assert.deepEqual(json.byInstance, { a: 2, b: 1 });
    assert.deepEqual(json.failedByCode, { UNAVAILABLE: 1 });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /hello_client_calls_total\{outcome="ok",code="OK"\} 3/);
    assert.match(metrics, /hello_client_calls_total\{outcome="failed",code="UNAVAILABLE"\} 1/);
    assert.match(metrics, /hello_client_instance_calls_total\{outcome="ok",instance="a"\} 2/);
    assert.match(metrics, /hello_client_instance_calls_total\{outcome="wrong",instance="b"\} 1/);
    assert.match(metrics, /hello_client_call_duration_seconds_count 5/);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  } finally {
    server.close();
  }
});

test('quantiles pick the nearest rank', () => {
  assert.equal(quantile([], 0.5), 0);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
  assert.equal(quantile([1, 2, 3, 4], 0.99), 4);
  assert.equal(
    quantile(
      Array.from({ length: 100 }, (_, i) => i + 1),
      0.99,
    ),
    99,
  );
});
