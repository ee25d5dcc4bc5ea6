/**
 * The client's service config, given to grpc-js as the channel's
 * `grpc.service_config` (the Consul resolver hands it on with every result
 * and every error, so round_robin keeps its connections when Consul fails):
 * round_robin across instances; retries on UNAVAILABLE, so a call caught by
 * an instance dying (its connection dropped) goes to another instance
 * instead of to the caller; and a deadline per call, so a frozen instance
 * costs a call a bounded wait, never a hang.
 */
export interface CallPolicy {
  readonly deadlineMs: number;
  /** grpc-js accepts 2 to 5. */
  readonly maxAttempts: number;
}

export const DEFAULT_CALL_POLICY: CallPolicy = { deadlineMs: 5_000, maxAttempts: 5 };

export function helloServiceConfig(policy: CallPolicy = DEFAULT_CALL_POLICY): object {
  const seconds = Math.floor(policy.deadlineMs / 1_000);
  return {
    loadBalancingConfig: [{ round_robin: {} }],
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
