import type { StatsSnapshot } from '../contracts/stats.js';

/** An instance's share of the calls answered between two readings of the client's counters (0 when none was). */
export function shareOf(instanceId: string, from: StatsSnapshot, to: StatsSnapshot): number {
  // All answers from `ok`: byInstance drops instances gone long enough (see the contract), ok never does.
  const calls = (snapshot: StatsSnapshot): number => snapshot.byInstance[instanceId] ?? 0;
  return (calls(to) - calls(from)) / Math.max(1, to.ok - from.ok);
}
