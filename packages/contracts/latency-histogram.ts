/**
 * Call latencies counted in buckets that grow by 2^(1/8) (~9 % wide) from
 * 0.1 ms to ~100 s. Counts only ever grow, so the calls of any time window
 * are the difference of two readings: the chaos runner's p50/p99 per fault
 * window and the live view's per-second quantiles come from that, not from a
 * window of the last N calls. Sparse: bucket index -> count, absent is 0.
 */
export type LatencyCounts = Readonly<Record<string, number>>;

const FIRST_UPPER_MS = 0.1;
const STEPS_PER_DOUBLING = 8;
const LAST_INDEX = 160;

/** The bucket a latency falls in: the first whose upper bound is >= it. */
export function bucketOf(latencyMs: number): number {
  if (!(latencyMs > FIRST_UPPER_MS)) return 0;
  const index = Math.ceil(Math.log2(latencyMs / FIRST_UPPER_MS) * STEPS_PER_DOUBLING - 1e-9);
  return Math.min(LAST_INDEX, index);
}

export function upperBoundMs(index: number): number {
  return FIRST_UPPER_MS * 2 ** (index / STEPS_PER_DOUBLING);
}

export class LatencyHistogram {
  private readonly counts = new Map<number, number>();

  record(latencyMs: number): void {
    const index = bucketOf(latencyMs);
    this.counts.set(index, (this.counts.get(index) ?? 0) + 1);
  }

  snapshot(): LatencyCounts {
    return Object.fromEntries([...this.counts].sort((a, b) => a[0] - b[0]));
  }
}

/** The calls counted in `later` and not in `earlier` (a time window's calls). */
export function countsBetween(earlier: LatencyCounts | undefined, later: LatencyCounts): LatencyCounts {
  const window: Record<string, number> = {};
  for (const [index, count] of Object.entries(later)) {
    const diff = count - (earlier?.[index] ?? 0);
    if (diff > 0) window[index] = diff;
  }
  return window;
}

export function totalOf(counts: LatencyCounts): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

/**
 * The q-quantile's bucket upper bound (within ~9 % above the true value);
 * undefined for no calls.
 */
export function quantileMs(counts: LatencyCounts, q: number): number | undefined {
  const total = totalOf(counts);
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [index, count] of Object.entries(counts).sort((a, b) => Number(a[0]) - Number(b[0]))) {
    seen += count;
    if (seen >= rank) return Math.round(upperBoundMs(Number(index)) * 100) / 100;
  }
  return undefined;
}

/** p50 and p99 of a window's calls, and how many there were. */
export interface WindowLatency {
  readonly p50: number;
  readonly p99: number;
  readonly calls: number;
}

/** The latency of the calls counted between two readings; undefined when there were none. */
export function windowLatency(earlier: LatencyCounts | undefined, later: LatencyCounts): WindowLatency | undefined {
  const window = countsBetween(earlier, later);
  const p50 = quantileMs(window, 0.5);
  const p99 = quantileMs(window, 0.99);
  return p50 === undefined || p99 === undefined ? undefined : { p50, p99, calls: totalOf(window) };
}
