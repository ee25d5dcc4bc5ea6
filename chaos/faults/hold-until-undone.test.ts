import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DockerDriver, TargetContainer } from '../docker/docker-driver.js';
import type { StepContext, Undo } from './fault-kind.js';
import { keepingUndos } from '../test-support/step-context.js';
import { holdUntilUndone } from './hold-until-undone.js';

const held = ['a', 'b'].map((id) => ({ containerId: id, name: `hello-${id}` }) as TargetContainer);

/** A context that keeps the undos registered, as the runner does, and can withdraw them. */
function contextWithUndos(): { context: StepContext; registered: Undo[] } {
  const { context, undos } = keepingUndos({
    driver: {} as DockerDriver,
    keepAlive: 1,
    underFault: new Set(['other']),
    sleep: async () => undefined,
  });
  return { context, registered: undos };
}

const undoThat = (run: () => Promise<void>): Undo => ({
  description: 'start them again',
  run,
  proof: async () => ({ observed: '', ok: true }),
});

test('what a fault holds is marked before it acts, and released once its undo ran, also when the undo failed', async () => {
  for (const fails of [false, true]) {
    const { context, registered } = contextWithUndos();
    let ran = 0;
    holdUntilUndone(
      context,
      held,
      undoThat(async () => {
        ran += 1;
        if (fails) throw new Error('Docker said no');
      }),
    );
    assert.deepEqual([...context.underFault].sort(), ['a', 'b', 'other']);
    assert.equal(registered.length, 1);
    assert.equal(registered[0]?.description, 'start them again');
    const undone = registered[0]?.run();
    if (fails) await assert.rejects(undone ?? Promise.resolve(), /Docker said no/);
    else await undone;
    assert.equal(ran, 1);
    assert.deepEqual([...context.underFault], ['other'], fails ? 'released after a failed undo' : 'released after the undo');
  }
});

test('a fault that ended by itself withdraws its undo and releases what it held', () => {
  const { context, registered } = contextWithUndos();
  const endedByItself = holdUntilUndone(
    context,
    held,
    undoThat(async () => undefined),
  );
  endedByItself();
  assert.deepEqual(registered, []);
  assert.deepEqual([...context.underFault], ['other']);
});
