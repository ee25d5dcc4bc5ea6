import { setTimeout as sleep } from 'node:timers/promises';
import type { StatsSnapshot } from '../contracts/stats.js';

/** What a share is counted from: the client's counters, or a chaos journal's sample of them. */
type Counted = Pick<StatsSnapshot, 'ok' | 'byInstance'>;

/** An instance's share of the calls answered between two readings of the client's counters (0 when none was). */
export function shareOf(instanceId: string, from: Counted, to: Counted): number {
  // All answers from `ok`: byInstance drops instances gone long enough (see the contract), ok never does.
  const calls = (snapshot: Counted): number => snapshot.byInstance[instanceId] ?? 0;
  return (calls(to) - calls(from)) / Math.max(1, to.ok - from.ok);
}

/**
 * An instance's share of the calls answered during the next `ms`: what a test
 * waits on (with eventually) until a balancer has moved calls off it.
 */
export async function shareOver(stats: { snapshot(): StatsSnapshot }, instanceId: string, ms: number): Promise<number> {
  const from = stats.snapshot();
  await sleep(ms);
  return shareOf(instanceId, from, stats.snapshot());
}
