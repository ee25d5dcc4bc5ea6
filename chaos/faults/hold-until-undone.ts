import type { TargetContainer } from '../docker/docker-driver.js';
import type { StepContext, Undo } from './fault-kind.js';

/**
 * Every fault that leaves something broken starts here, before it acts: the
 * containers it holds are marked under fault (no other step picks them or
 * counts them available) and its undo is registered, so a fault that fails
 * halfway is still undone. The mark goes when the undo has run, whether the
 * undo succeeded or not (a container that could not be started again must
 * not stay reserved for a run that is over with it), or when the returned
 * function withdraws the undo: the fault ended by itself (a container
 * replaced and removed, Consul started again within the step).
 */
export function holdUntilUndone(context: StepContext, held: readonly TargetContainer[], undo: Undo): () => void {
  for (const target of held) context.underFault.add(target.containerId);
  const release = (): void => {
    for (const target of held) context.underFault.delete(target.containerId);
  };
  const withdraw = context.willUndo({
    ...undo,
    run: async () => {
      try {
        await undo.run();
      } finally {
        release();
      }
    },
  });
  return () => {
    withdraw();
    release();
  };
}
