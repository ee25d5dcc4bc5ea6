import { eventually } from '../../packages/testing/eventually.js';
import { fetchStats, type StatsSnapshot } from '../../packages/contracts/stats.js';

/**
 * Reads the client's counters until `done` holds, and returns that reading.
 * A timeout throws, naming what was awaited (`what`) and the last reading
 * (or why there was none): a caller cannot go on with counters that never
 * got where it needed them.
 */
export async function statsWhen(
  baseUrl: string,
  what: string,
  done: (stats: StatsSnapshot) => boolean,
  timeoutMs: number,
): Promise<StatsSnapshot> {
  let last: StatsSnapshot | undefined;
  let lastError: unknown;
  const held = await eventually(
    async () => {
      // The client may still be starting: a failed read is "not yet", kept for the message.
      const reading = await fetchStats(baseUrl, 5_000).catch((error: unknown) => {
        lastError = error;
        return undefined;
      });
      if (reading === undefined) return false;
      last = reading;
      return done(reading);
    },
    timeoutMs,
    500,
  );
  if (held && last) return last;
  const reading = last ? summary(last) : `none (${(lastError as Error | undefined)?.message ?? 'no answer'})`;
  throw new Error(`the client's counters did not show ${what} within ${timeoutMs / 1_000} s; last reading: ${reading}`);
}

/** The counters a waiting test is about, without the latency buckets that would bury them. */
function summary(stats: StatsSnapshot): string {
  const { ok, failed, wrong, byInstance, resolvedInstances, resolverErrors, lastFailure } = stats;
  return JSON.stringify({ ok, failed, wrong, byInstance, resolvedInstances, resolverErrors, lastFailure });
}

export function correctInstances(stats: StatsSnapshot): string[] {
  return Object.entries(stats.byInstance)
    .filter(([, count]) => count > 0)
    .map(([id]) => id);
}
