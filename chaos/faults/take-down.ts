import type { DockerDriver, TargetContainer } from '../docker/docker-driver.js';
import { containerIs } from '../engine/read-back.js';
import type { StepContext, Undo } from './fault-kind.js';
import { holdUntilUndone } from './hold-until-undone.js';
import type { InstanceFault } from './one-instance.js';

/** The undo of a kill or a stop: start the container again (with its state), read back running. */
function startAgain(driver: DockerDriver, target: TargetContainer): Undo {
  return { description: `start ${target.name} again`, run: () => driver.start(target), proof: containerIs(driver, target, 'running') };
}

/**
 * A container about to be killed or stopped: it is started again when the
 * fault is undone. Returns what says it is gone for good (removed after its
 * replacement started), so there is nothing to start again.
 */
export function willTakeDown(context: StepContext, target: TargetContainer): () => void {
  return holdUntilUndone(context, [target], startAgain(context.driver, target));
}

/** A hello instance taken down by `act` (a kill, a stop): read back down, started again when undone. */
export function takenDown(driver: DockerDriver, victim: TargetContainer, act: () => Promise<void>, detail: string): InstanceFault {
  return { act, detail, proof: containerIs(driver, victim, 'down'), undo: startAgain(driver, victim) };
}
