/**
 * What the live feed sends and the page reads: the data of each server-sent
 * event, by name. The feed (live-feed.ts, Node) and the page's script
 * (live.ts, the browser) both type their side against these, so a change to
 * the stream breaks whichever side was not changed with it. Types only: the
 * page's script imports nothing at run time.
 */

/** One point a second, computed from the client's counters. */
export interface LivePoint {
  readonly t: number;
  /** Calls answered correctly per second, per instance, over the last interval. */
  readonly rates: Record<string, number>;
  readonly okPerSecond: number;
  readonly failedPerSecond: number;
  readonly wrongPerSecond: number;
  /** Latency of the interval's calls; undefined without calls. */
  readonly p50?: number;
  readonly p99?: number;
  readonly totals: { readonly ok: number; readonly failed: number; readonly wrong: number; readonly recovered: number };
  /** The resolver's set, as `instance@host:port`. */
  readonly resolved: readonly string[];
  /** The datacenter of each instance the client knows one for, by instance id (empty when none says one). */
  readonly datacenters: Readonly<Record<string, string>>;
}

export interface ResolverChange {
  readonly t: number;
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

export interface LiveFault {
  readonly index: number;
  readonly description: string;
  readonly startedAt: number;
  endedAt?: number;
  outcome?: string;
  detail?: string;
}

export interface LivePlanStep {
  readonly index: number;
  readonly description: string;
  readonly atMs: number;
  readonly untilMs?: number;
}

export interface LivePlan {
  readonly title: string;
  readonly seed: number;
  readonly methodStartedAt: number;
  readonly totalMs: number;
  readonly steps: readonly LivePlanStep[];
}

/** One fault's failover timings, as the chaos report computes them (chaos/report/fault-figures.ts). */
export interface LiveTiming {
  readonly index: number;
  readonly description: string;
  readonly failures: number;
  readonly wrong: number;
  readonly recovered: number;
  readonly detectedAfterMs: number | undefined;
  readonly replacementFirstCallAfterMs: number | undefined;
  readonly latency: { readonly p50: number; readonly p99: number } | undefined;
}

export interface LiveTimings {
  readonly figures: readonly LiveTiming[];
  readonly steady: { readonly p50: number; readonly p99: number } | undefined;
}

export interface LiveSnapshot {
  readonly source: string;
  readonly points: readonly LivePoint[];
  readonly changes: readonly ResolverChange[];
  readonly faults: readonly LiveFault[];
  readonly plan?: LivePlan;
  readonly timings?: LiveTimings;
}

/** Each event of the stream by name, with its data: everything so far on connecting, then each new piece. */
export interface LiveEvents {
  readonly snapshot: LiveSnapshot;
  readonly point: LivePoint;
  readonly resolver: ResolverChange;
  readonly fault: LiveFault;
  readonly plan: LivePlan;
  readonly timings: LiveTimings;
}
