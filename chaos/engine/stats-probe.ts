import type { StatsSnapshot } from '../../services/client/call-stats.js';

/** Reads the client's /stats: the runner's only view of what callers experience. */
export async function readStats(statsUrl: string): Promise<StatsSnapshot> {
  const response = await fetch(`${statsUrl.replace(/\/$/, '')}/stats`, { signal: AbortSignal.timeout(3_000) });
  if (!response.ok) throw new Error(`GET ${statsUrl}/stats answered HTTP ${response.status}`);
  return (await response.json()) as StatsSnapshot;
}
