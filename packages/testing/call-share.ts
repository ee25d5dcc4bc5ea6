import type { StatsSnapshot } from '../contracts/stats.js';

/** An instance's share of the calls answered between two readings of the client's counters (0 when none was). */
export function shareOf(instanceId: string, from: StatsSnapshot, to: StatsSnapshot): number {
  const calls = (snapshot: StatsSnapshot, id?: string): number =>
    id === undefined ? Object.values(snapshot.byInstance).reduce((sum, count) => sum + count, 0) : (snapshot.byInstance[id] ?? 0);
  return (calls(to, instanceId) - calls(from, instanceId)) / Math.max(1, calls(to) - calls(from));
}
