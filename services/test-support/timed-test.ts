import { test as nodeTest, type TestContext } from 'node:test';

/**
 * node:test's test() with a time limit of its own, for the tests that start
 * Consul agents and server processes. Node 20 applies --test-timeout
 * (scripts/run-tests.sh) to a whole FILE, so without one a hang in such a test
 * would show only when its file runs out, 20 min on. 3 min is several times
 * the longest of them (a rolling restart under load).
 */
export function test(name: string, fn: (t: TestContext) => Promise<void>): Promise<void> {
  return nodeTest(name, { timeout: 180_000 }, fn);
}
