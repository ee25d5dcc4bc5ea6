import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadScenario } from './load-scenario.js';
import { formatPlan, planScenario, seededRandom } from './plan.js';

// The same seed, the same plan, for every shipped scenario: shipped-scenarios.test.ts.

test('another seed gives another plan where the scenario has randomness', () => {
  const { scenario } = loadScenario('random-mix');
  assert.notEqual(formatPlan(planScenario(scenario, 1)), formatPlan(planScenario(scenario, 2)));
});

test('jitter stays within its bounds and steps come out in time order', () => {
  const { scenario } = loadScenario('rolling-kill');
  for (let seed = 0; seed < 50; seed += 1) {
    const plan = planScenario(scenario, seed);
    assert.equal(plan.steps.length, 6);
    plan.steps.forEach((step, run) => {
      assert.ok(Math.abs(step.atMs - (3_000 + run * 5_000)) <= 1_000, `seed ${seed} step ${run} at ${step.atMs}`);
    });
    const times = plan.steps.map((step) => step.atMs);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );
  }
});

test('the seeded generator is deterministic and spread over [0, 1)', () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const draws = Array.from({ length: 1_000 }, () => a());
  assert.deepEqual(
    draws,
    Array.from({ length: 1_000 }, () => b()),
  );
  assert.ok(draws.every((value) => value >= 0 && value < 1));
  const mean = draws.reduce((sum, value) => sum + value, 0) / draws.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
});
