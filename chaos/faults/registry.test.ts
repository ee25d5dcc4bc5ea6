import assert from 'node:assert/strict';
import { test } from 'node:test';
import { actionSchema } from '../scenario/schema.js';
import { FAULT_KINDS, FAULT_NAMES, faultKindOf } from './registry.js';

test('each kind is filed under the name its schema accepts, and the scenario schema is built from the table in its order', () => {
  for (const name of FAULT_NAMES) assert.equal(FAULT_KINDS[name].schema.shape.action.value, name);
  assert.deepEqual(
    actionSchema.options.map((option) => option.shape.action.value),
    FAULT_NAMES,
  );
});

test('a kind with a duration is undone after it, and only such a kind is', () => {
  for (const name of FAULT_NAMES) {
    const kind = FAULT_KINDS[name];
    assert.equal(kind.lastsMs !== undefined, 'duration' in kind.schema.shape, `${name}: lastsMs exactly when it has a duration`);
    if (!kind.lastsMs) continue;
    const action = actionSchema.parse({ action: name, duration: '3s' });
    assert.equal(faultKindOf(action).lastsMs?.(action), 3_000, name);
  }
});

test('every kind runs on some stack, and a kind that needs the Consul cluster runs on make up PROFILE=ha', () => {
  for (const name of FAULT_NAMES) {
    const { runsOn, needs } = FAULT_KINDS[name];
    assert.ok(runsOn.compose || runsOn.swarm, `${name} runs nowhere`);
    if (needs.includes('consul-cluster')) assert.ok(runsOn.compose, `${name} needs PROFILE=ha but does not run on Compose`);
  }
});
