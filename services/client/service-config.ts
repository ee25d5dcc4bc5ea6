/**
 * The client's service config, given to grpc-js as the channel's
 * `grpc.service_config` (the Consul resolver hands it on with every result
 * and every error, so round_robin keeps its connections when Consul fails):
 * round_robin across instances, under outlier detection, so an instance that
 * passes its health check but fails many calls (a gray failure) is ejected
 * for a while; retries on UNAVAILABLE, so a call caught by an instance dying
 * (its connection dropped) goes to another instance instead of to the
 * caller; and a deadline per call, so a frozen instance costs a call a
 * bounded wait, never a hang.
 */
export interface CallPolicy {
  readonly deadlineMs: number;
  /** grpc-js accepts 2 to 5. */
  readonly maxAttempts: number;
}

export const DEFAULT_CALL_POLICY: CallPolicy = { deadlineMs: 5_000, maxAttempts: 5 };

/**
 * gRFC A50 outlier detection around round_robin. grpc-js validates this in
 * snake_case with Duration objects; anything else (camelCase, "1s") fails
 * validation, which it logs only at DEBUG before falling back to pick_first
 * (measured: all traffic to one instance). The e2e flaky test checks the
 * policy running is this one: the flaky instance's share falls to ~0.
 */
export const OUTLIER_DETECTION = {
  // Every 2 s, an instance that failed at least 30 % of at least 10 attempts
  // (retries count, so ejection happens while callers see none; 10 in 2 s is
  // reached by each of 3 instances from 15 calls/s)...
  interval: { seconds: 2, nanos: 0 },
  failure_percentage_ejection: { threshold: 30, enforcement_percentage: 100, minimum_hosts: 2, request_volume: 10 },
  // ...is left out 5 s, longer each time it is ejected again, at most 30 s;
  base_ejection_time: { seconds: 5, nanos: 0 },
  max_ejection_time: { seconds: 30, nanos: 0 },
  // never more than half the instances at once.
  max_ejection_percent: 50,
  child_policy: [{ round_robin: {} }],
} as const;

export function helloServiceConfig(policy: CallPolicy = DEFAULT_CALL_POLICY): object {
  const seconds = Math.floor(policy.deadlineMs / 1_000);
  return {
    loadBalancingConfig: [{ outlier_detection: OUTLIER_DETECTION }],
    methodConfig: [
      {
        // An empty name matches every method of every service on the channel.
        name: [{}],
        timeout: `${seconds}.${String(policy.deadlineMs % 1_000).padStart(3, '0')}s`,
        retryPolicy: {
          maxAttempts: policy.maxAttempts,
          // Retries spread over about 1.5 s (randomised 0.1, 0.2, 0.4, 0.8 s):
          // long enough for round_robin to learn that an instance died.
          initialBackoff: '0.1s',
          maxBackoff: '1s',
          backoffMultiplier: 2,
          retryableStatusCodes: ['UNAVAILABLE'],
        },
      },
    ],
  };
}
