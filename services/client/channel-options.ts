import type { ChannelOptions } from '@grpc/grpc-js';

/**
 * The client's channel settings, one place for the program, the tests and the
 * bench. Keepalive pings notice a frozen instance in about ping + timeout; an
 * instance that comes back on the same address is found again within seconds.
 */
export function helloChannelOptions(keepaliveTimeMs: number, keepaliveTimeoutMs: number): ChannelOptions {
  return {
    ...(keepaliveTimeMs > 0 && {
      'grpc.keepalive_time_ms': keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': keepaliveTimeoutMs,
      'grpc.keepalive_permit_without_calls': 1,
    }),
    'grpc.initial_reconnect_backoff_ms': 500,
    'grpc.max_reconnect_backoff_ms': 5_000,
  };
}
