import { DockerDriver } from '../docker/docker-driver.js';
import { composeScope } from '../docker/labels.js';
import type { StepContext, Undo } from '../faults/fault-kind.js';
import type { FakeEngine } from './fake-engine.js';

/** The real DockerDriver on an engine in memory, scoped to compose project `lab`, as the fault tests' stacks are. */
export const labDriver = (engine: FakeEngine): DockerDriver => new DockerDriver(composeScope('lab'), engine.docker(), 'netfault:test');

/**
 * A step's context with the runner's bookkeeping of undos: each registered
 * one is kept in `undos`, in order, and leaves it when withdrawn (the fault
 * ended by itself). The rest is the test's.
 */
export function keepingUndos(rest: Omit<StepContext, 'willUndo'>): { context: StepContext; undos: Undo[] } {
  const undos: Undo[] = [];
  const context: StepContext = {
    ...rest,
    willUndo: (undo) => {
      undos.push(undo);
      return () => undos.splice(undos.indexOf(undo), 1);
    },
  };
  return { context, undos };
}
