/**
 * How every watch of the library paces itself against Consul: health,
 * prepared-query and KV watches alike. In a module of its own because the
 * watches and the target parser all read it, and none of them should need
 * another to get it.
 */
export interface WatchTuning {
  /** Least time between two queries, whatever Consul answers. */
  readonly minQueryIntervalMs: number;
  /**
   * How long an EMPTY answer right after Consul lost its state (its index
   * went backwards, or queries failed) is held back: a restarted dev agent
   * knows no instance until they register again, one heartbeat later, and
   * the client should keep calling the old ones meanwhile.
   */
  readonly emptyAfterRestartGraceMs: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  /**
   * A probe (HealthWatch.probe()): how long its quick, non-blocking read may
   * take before the Consul asked counts as gone. A partitioned Consul does
   * not refuse, it hangs: without a deadline of its own a blocking query
   * would wait for minutes.
   */
  readonly probeTimeoutMs: number;
  /** Least time between two probes of one watch, however often they are asked for. */
  readonly minProbeIntervalMs: number;
}

export const DEFAULT_WATCH_TUNING: WatchTuning = {
  minQueryIntervalMs: 50,
  emptyAfterRestartGraceMs: 10_000,
  backoff: { initialMs: 200, maxMs: 3_000 },
  probeTimeoutMs: 1_000,
  minProbeIntervalMs: 500,
};
