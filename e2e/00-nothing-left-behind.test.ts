import assert from 'node:assert/strict';
import { e2eTest as test } from '../packages/testing/timed-test.js';
import { findLeftovers } from './support/docker-sweep.js';

// Runs first of everything that touches Docker (node runs the files one at a
// time, in path order: hence 00-): a previous run, even an interrupted one,
// left nothing.
test('no container, network or image tag of an earlier e2e run is left on the engine', async () => {
  assert.deepEqual(await findLeftovers(), { containers: [], networks: [], volumes: [], images: [] });
});
