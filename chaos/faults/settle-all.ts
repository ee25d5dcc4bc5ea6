/**
 * Waits for every action, then throws the first failure: a rollback must not
 * start while a stop it would undo is still under way (it would start a
 * container that the stop then takes down for good).
 */
export async function settleAll(actions: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(actions)).find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}
