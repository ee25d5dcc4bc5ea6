import type { StatsSnapshot } from '../../services/client/call-stats.js';

export async function fetchStats(baseUrl: string): Promise<StatsSnapshot> {
  const response = await fetch(`${baseUrl}/stats`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`GET ${baseUrl}/stats answered ${response.status}`);
  return (await response.json()) as StatsSnapshot;
}

/**
 * Reads the client's counters until `done` holds or `timeoutMs` passes, and
 * returns the last reading either way: the caller asserts on it, so a
 * timeout shows up as a failed assertion with the counters in its message.
 */
export async function statsWhen(baseUrl: string, done: (stats: StatsSnapshot) => boolean, timeoutMs: number): Promise<StatsSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let last: StatsSnapshot | undefined;
  while (Date.now() < deadline) {
    try {
      last = await fetchStats(baseUrl);
      if (done(last)) return last;
    } catch {
      // The client may still be starting; the deadline bounds the wait.
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return last ?? fetchStats(baseUrl);
}

export function correctInstances(stats: StatsSnapshot): string[] {
  return Object.entries(stats.byInstance)
    .filter(([, count]) => count > 0)
    .map(([id]) => id);
}
