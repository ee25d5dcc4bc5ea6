/**
 * The client's service config, given to grpc-js as the channel's
 * `grpc.service_config` (the Consul resolver hands it on with every result
 * and every error, so the balancer keeps its connections when Consul fails):
 * weighted round robin across instances, weighted by the load each instance
 * reports (ORCA, out of band), so a slow instance gets few calls; under
 * outlier detection, so an instance that passes its health check but fails
 * many calls (a gray failure) is ejected for a while; retries on
 * UNAVAILABLE, so a call caught by an instance dying (its connection
 * dropped) goes to another instance instead of to the caller; and a deadline
 * per call, so a frozen instance costs a call a bounded wait, never a hang.
 */
export interface CallPolicy {
  readonly deadlineMs: number;
  /** grpc-js accepts 2 to 5. */
  readonly maxAttempts: number;
  /**
   * weighted_round_robin (default) or plain round_robin; both under outlier
   * detection. The bench compares them (`node dist/bench/slow-instance.js`).
   */
  readonly balancer?: Balancer;
  /** Hedging instead of retries: another attempt every delayMs until one answers (the client's HEDGING_DELAY_MS; docs/gray-failures.md). */
  readonly hedgingDelayMs?: number;
  /**
   * grpc-js's retryThrottling (gRFC A6), per target: each failed attempt
   * takes a token, each answered call gives `tokenRatio` back, and while
   * half of `maxTokens` or fewer are left no call is retried. It spares
   * instances a retry storm when all of them fail; it retries nothing more.
   * grpc-js 1.14.7 asks it before a retry, not before a hedged attempt.
   * Bench only (`node dist/bench/net-fault-policies.js`).
   */
  readonly retryThrottling?: { readonly maxTokens: number; readonly tokenRatio: number };
}

/** The balancers the client can run, under outlier detection. */
export const BALANCERS = ['weighted_round_robin', 'round_robin'] as const;
export type Balancer = (typeof BALANCERS)[number];

export const DEFAULT_CALL_POLICY: CallPolicy = { deadlineMs: 5_000, maxAttempts: 5, balancer: 'weighted_round_robin' };

const seconds = (value: number): { seconds: number; nanos: number } => ({
  seconds: Math.floor(value),
  nanos: Math.round((value % 1) * 1e9),
});

/**
 * gRFC A58 weighted round robin with out-of-band load reports: each instance
 * streams qps, errors/s and utilization (services/server/load-report.ts)
 * and the weights are recomputed from them. Per-call reports were not used
 * because unpatched grpc-js 1.14.7 parsed the ORCA proto again for each call
 * (measured ~14 ms a call; patches/ now keeps it loaded, which also took
 * 10-30 ms off every new instance's connection); out-of-band reports stay,
 * as they reach an instance that gets few calls too.
 */
export const WEIGHTED_ROUND_ROBIN = {
  enable_oob_load_report: true,
  // Reports and weights every 0.5 s: a slow instance loses its share within ~1.5 s.
  oob_load_reporting_period: seconds(0.5),
  weight_update_period: seconds(0.5),
  // No blackout: grpc-js 1.14.7 gives an endpoint without a weight (new, or
  // in its blackout) the mean weight as its *period* instead of 1 / mean, so
  // next to weighted peers it gets next to no calls; patches/ brings the
  // gRFC's behaviour (the mean weight) and no blackout keeps that window short.
  blackout_period: seconds(0),
  // A weight with no fresh report for 10 s lapses (to the mean): an instance
  // that was penalised for errors or slowness gets so few calls that it
  // reports no load, so without this it would stay starved after it recovered
  // (measured: a flaky instance got no call for over a minute after the fault
  // was cleared). A still-slow one is probed with a few calls and weighed again.
  weight_expiration_period: seconds(10),
  error_utilization_penalty: 1,
} as const;

/**
 * gRFC A50 outlier detection around the balancer. grpc-js validates this in
 * snake_case with Duration objects; anything else (camelCase, "1s") fails
 * validation, which it logs only at DEBUG before falling back to pick_first
 * (measured: all traffic to one instance). The e2e flaky test checks the
 * policy running is this one: the flaky instance's share falls to ~0.
 */
export function outlierDetection(balancer: Balancer): object {
  return {
    // Every 2 s, an instance that failed at least 30 % of at least 10 attempts
    // (retries count, so ejection happens while callers see none; 10 in 2 s is
    // reached by each of 3 instances from 15 calls/s)...
    interval: seconds(2),
    failure_percentage_ejection: { threshold: 30, enforcement_percentage: 100, minimum_hosts: 2, request_volume: 10 },
    // ...is left out 5 s, longer each time it is ejected again, at most 30 s;
    base_ejection_time: seconds(5),
    max_ejection_time: seconds(30),
    // never more than half the instances at once.
    max_ejection_percent: 50,
    child_policy: [balancer === 'weighted_round_robin' ? { weighted_round_robin: WEIGHTED_ROUND_ROBIN } : { round_robin: {} }],
  };
}

export function helloServiceConfig(policy: CallPolicy = DEFAULT_CALL_POLICY): object {
  // A Duration object: grpc-js reads the fraction of a "2.500s" string as nanoseconds (2 s + 500 ns).
  const deadline = seconds(policy.deadlineMs / 1_000);
  const again =
    policy.hedgingDelayMs === undefined
      ? {
          retryPolicy: {
            maxAttempts: policy.maxAttempts,
            // Retries spread over about 1.5 s (randomised 0.1, 0.2, 0.4, 0.8 s):
            // long enough for the balancer to learn that an instance died.
            initialBackoff: '0.1s',
            maxBackoff: '1s',
            backoffMultiplier: 2,
            retryableStatusCodes: ['UNAVAILABLE'],
          },
        }
      : {
          hedgingPolicy: {
            maxAttempts: policy.maxAttempts,
            hedgingDelay: `${(policy.hedgingDelayMs / 1_000).toFixed(3)}s`,
            nonFatalStatusCodes: ['UNAVAILABLE'],
          },
        };
  return {
    loadBalancingConfig: [{ outlier_detection: outlierDetection(policy.balancer ?? 'weighted_round_robin') }],
    // An empty name matches every method of every service on the channel.
    methodConfig: [{ name: [{}], timeout: deadline, ...again }],
    ...(policy.retryThrottling && { retryThrottling: policy.retryThrottling }),
  };
}
