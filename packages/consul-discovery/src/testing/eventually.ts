/**
 * Waits until `condition` holds or `timeoutMs` passes, asking every `stepMs`;
 * returns whether it held. A condition that throws counts as "not yet". The
 * caller asserts on the result, so a timeout fails its test with its message.
 */
export async function eventually(condition: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await condition()) return true;
    } catch {
      // a failing probe counts as "not yet"
    }
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  return false;
}
