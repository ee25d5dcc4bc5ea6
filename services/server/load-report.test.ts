import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoadReporter } from './load-report.js';

function reporterWithClock(): { reporter: LoadReporter; reported: Record<string, number>[]; clock: { now: number } } {
  const clock = { now: 0 };
  const reported: Record<string, number>[] = [];
  let current: Record<string, number> = {};
  const reporter = new LoadReporter({
    pathPrefix: '/hello.HelloService/',
    windowMs: 500,
    now: () => clock.now,
    recorder: {
      setQpsMetric: (value) => {
        current = { qps: value };
      },
      setEpsMetric: (value) => {
        current.eps = value;
      },
      setApplicationUtilizationMetric: (value) => {
        current.utilization = value;
        reported.push(current);
      },
    },
  });
  return { reporter, reported, clock };
}

test('load figures: qps and errors/s from the calls answered, utilization = mean calls in flight over the window', () => {
  const { reporter, reported, clock } = reporterWithClock();
  // Two calls of 100 ms side by side, one of them failed, in a 500 ms window.
  reporter.callStarted();
  reporter.callStarted();
  clock.now = 100;
  reporter.callEnded({ ok: true });
  reporter.callEnded({ ok: false });
  clock.now = 500;
  reporter.closeWindow();
  assert.deepEqual(reported, [{ qps: 4, eps: 2, utilization: 0.4 }]);
});

test('a slow call still in flight counts for the window it was busy in; a window without an answered call reports qps 0, never the last figures again', () => {
  const { reporter, reported, clock } = reporterWithClock();
  reporter.callStarted();
  clock.now = 500;
  // Busy all window, nothing answered: qps 0, from which the client makes no weight (its last one lapses).
  reporter.closeWindow();
  assert.deepEqual(reported, [{ qps: 0, eps: 0, utilization: 1 }]);
  clock.now = 800;
  reporter.callEnded({ ok: true });
  clock.now = 1_000;
  reporter.closeWindow();
  // 300 ms busy of 500, one call answered: 2 calls/s at 0.6 utilization (weight 3.3 vs ~500 for 2 ms calls).
  assert.equal(reported[1]?.qps, 2);
  assert.ok(Math.abs((reported[1]?.utilization ?? 0) - 0.6) < 1e-9);
  assert.deepEqual(reporter.figures, { qps: 2, eps: 0, utilization: reported[1]?.utilization });
  clock.now = 1_500;
  reporter.closeWindow();
  assert.deepEqual(reported[2], { qps: 0, eps: 0, utilization: 0 }, 'idle: nothing of the last window is sent again');
});
