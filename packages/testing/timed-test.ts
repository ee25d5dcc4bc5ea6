import { test as nodeTest, type TestContext } from 'node:test';

/**
 * node:test's test() with a time limit of its own. Node 20 applies
 * --test-timeout (scripts/run-tests.sh) to a whole FILE, so without one a
 * hang would show only when its file runs out, 20 min on.
 */
export function timeLimitedTest(limitMs: number): (name: string, fn: (t: TestContext) => unknown) => Promise<void> {
  return (name, fn) => nodeTest(name, { timeout: limitMs }, fn as (t: TestContext) => Promise<void>);
}

/**
 * For the tests that start Consul agents and server processes: 3 min is
 * several times the longest of them (a rolling restart under load).
 */
export const test = timeLimitedTest(180_000);

/**
 * For the e2e tests on real containers: 5 min is several times the longest
 * scenario (about a minute) with its stack's convergence checks.
 */
export const e2eTest = timeLimitedTest(300_000);
