/** Direct reads of Consul's HTTP API, for tests to check what Consul itself says. */
export interface CheckState {
  readonly CheckID: string;
  readonly Status: string;
  readonly Type: string;
}

export async function checksOf(consulAddress: string, instanceId: string): Promise<CheckState[]> {
  const response = await fetch(`http://${consulAddress}/v1/agent/checks?filter=${encodeURIComponent(`ServiceID == "${instanceId}"`)}`);
  return Object.values((await response.json()) as Record<string, CheckState>);
}

export async function passingIds(consulAddress: string, service = 'HelloService'): Promise<string[]> {
  const response = await fetch(`http://${consulAddress}/v1/health/service/${service}?passing=true`);
  if (!response.ok) return [];
  return ((await response.json()) as { Service: { ID: string } }[]).map((entry) => entry.Service.ID).sort();
}

/**
 * Waits until `condition` holds or `timeoutMs` passes; returns whether it
 * held. Callers assert on the result, so a timeout fails the test.
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
