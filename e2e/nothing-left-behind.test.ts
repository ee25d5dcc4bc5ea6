import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findLeftovers } from './support/docker-sweep.js';

// Runs first (the suite runs its files one at a time, in name order of the
// Makefile's list): a previous run, even an interrupted one, left nothing.
test('no container, network or image tag of an earlier e2e run is left on the engine', async () => {
  assert.deepEqual(await findLeftovers(), { containers: [], networks: [], volumes: [], images: [] });
});
