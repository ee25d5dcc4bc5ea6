import assert from 'node:assert/strict';
import { test } from 'node:test';
import { composeScope, isInScope, stackScope } from './labels.js';

const target = { 'grpc-consul-lab.chaos-target': 'true' };

test('a container is a target only with the target label and its scope', () => {
  assert.equal(isInScope({ ...target, 'com.docker.compose.project': 'lab' }, composeScope('lab')), true);
  assert.equal(isInScope({ 'com.docker.compose.project': 'lab' }, composeScope('lab')), false);
  assert.equal(isInScope({ ...target, 'com.docker.compose.project': 'other' }, composeScope('lab')), false);
  assert.equal(isInScope({ ...target, 'com.docker.stack.namespace': 'lab' }, stackScope('lab')), true);
  assert.equal(isInScope(undefined, stackScope('lab')), false);
});

test('a Swarm task that inherited compose labels from its image is never a compose target', () => {
  const swarmTask = { ...target, 'com.docker.compose.project': 'lab', 'com.docker.stack.namespace': 'lab' };
  assert.equal(isInScope(swarmTask, composeScope('lab')), false);
  assert.equal(isInScope(swarmTask, stackScope('lab')), true);
});
