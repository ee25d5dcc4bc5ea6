import type { ServiceConfig } from '@grpc/grpc-js/build/src/service-config.js';

/**
 * The service config our resolver hands to every channel it serves:
 * round_robin across instances; retries on UNAVAILABLE so a call caught by an
 * instance dying (its connection dropped) goes to another instance instead
 * of to the caller; and a deadline per call, so a frozen instance costs a
 * call a bounded wait, never a hang.
 */
export interface CallPolicy {
  readonly deadlineMs: number;
  readonly maxAttempts: number;
}

export const DEFAULT_CALL_POLICY: CallPolicy = { deadlineMs: 5_000, maxAttempts: 5 };

export function roundRobinServiceConfig(policy: CallPolicy = DEFAULT_CALL_POLICY): ServiceConfig {
  const seconds = Math.floor(policy.deadlineMs / 1_000);
  return {
    loadBalancingConfig: [{ round_robin: {} }],
    methodConfig: [
      {
        // An empty name matches every method of every service on the channel.
        name: [{}],
        timeout: { seconds, nanos: (policy.deadlineMs % 1_000) * 1_000_000 },
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
