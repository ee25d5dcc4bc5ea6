import { test as nodeTest, type TestContext } from 'node:test';

/**
 * node:test's test() with a time limit of its own, for the tests against real
 * Consul agents. Node 20 applies --test-timeout (the project's
 * scripts/run-tests.sh) to a whole FILE, so without one a hang in such a test
 * would show only when its file runs out. 2 min is several times the longest.
 */
export function test(name: string, fn: (t: TestContext) => Promise<void>): Promise<void> {
  return nodeTest(name, { timeout: 120_000 }, fn);
}
