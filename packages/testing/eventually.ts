import { type Clock, pollUntil } from '../runtime/poll.js';

/**
 * Waits until `condition` holds or `timeoutMs` passes, asking every `stepMs`;
 * returns whether it held. A condition that throws counts as "not yet". The
 * caller asserts on the result, so a timeout fails its test with its message.
 */
export async function eventually(
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
  stepMs = 50,
  clock?: Clock,
): Promise<boolean> {
  const held = await pollUntil(
    async () => {
      // A failing probe (a server not up yet, a refused connection) counts as "not yet".
      const holds = await Promise.resolve()
        .then(condition)
        .catch(() => false);
      return holds ? true : undefined;
    },
    { timeoutMs, everyMs: stepMs, ...(clock && { clock }) },
  );
  return held === true;
}
