/**
 * The toxics the network faults use, as Toxiproxy's HTTP API writes them.
 * A toxic acts on one direction of each connection through its proxy:
 * `downstream` is the instance's answers on their way back, `upstream` the
 * callers' bytes on their way to it.
 */
export type ToxicStream = 'upstream' | 'downstream';

interface ToxicOf<Type extends string, Attributes> {
  /** Unique within its proxy: how it is removed and read back. */
  readonly name: string;
  readonly type: Type;
  readonly stream: ToxicStream;
  /** The share of connections it acts on, 0 to 1. */
  readonly toxicity: number;
  readonly attributes: Attributes;
}

/** Every chunk of data held `latency` ms, ± `jitter` ms. */
export type LatencyToxic = ToxicOf<'latency', { readonly latency: number; readonly jitter: number }>;
/** At most `rate` KB/s per connection. */
export type BandwidthToxic = ToxicOf<'bandwidth', { readonly rate: number }>;
/** Each connection reset (TCP RST) `timeout` ms after it starts; 0: at once. */
export type ResetPeerToxic = ToxicOf<'reset_peer', { readonly timeout: number }>;
/** No data passes; the connection closed after `timeout` ms, never with 0. */
export type TimeoutToxic = ToxicOf<'timeout', { readonly timeout: number }>;

export type Toxic = LatencyToxic | BandwidthToxic | ResetPeerToxic | TimeoutToxic;

/** The instance's answers `latencyMs` ± `jitterMs` later (the calls' bytes pass at once). */
export function latency(latencyMs: number, jitterMs: number, name = 'latency'): LatencyToxic {
  return { name, type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: latencyMs, jitter: jitterMs } };
}

/** The instance's answers at most `kilobytesPerSecond` KB/s on each connection. */
export function bandwidth(kilobytesPerSecond: number, name = 'bandwidth'): BandwidthToxic {
  return { name, type: 'bandwidth', stream: 'downstream', toxicity: 1, attributes: { rate: kilobytesPerSecond } };
}

/** Every connection reset by peer `afterMs` after it opens (0: as soon as data arrives). */
export function resetPeer(afterMs = 0, name = 'reset-peer'): ResetPeerToxic {
  return { name, type: 'reset_peer', stream: 'upstream', toxicity: 1, attributes: { timeout: afterMs } };
}

/**
 * Connections accepted, nothing answered: the callers' bytes are held and the
 * connection never closed (timeout 0), as with a host that stopped answering
 * but whose kernel still accepts. Upstream, so the instance does no work for
 * calls that will never get their answer.
 */
export function blackhole(name = 'blackhole'): TimeoutToxic {
  return { name, type: 'timeout', stream: 'upstream', toxicity: 1, attributes: { timeout: 0 } };
}
