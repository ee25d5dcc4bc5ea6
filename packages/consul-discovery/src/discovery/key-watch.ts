import type { ResolvedConnection } from '../consul/connection.js';
import { ConsulHttp } from '../consul/consul-http.js';
import { ConsulError } from '../consul/errors.js';
import { Backoff } from '../internal/backoff.js';
import { type Logger, silentLogger } from '../internal/logger.js';
import { sleep } from '../internal/sleep.js';
import { DEFAULT_WATCH_TUNING, type WatchTuning } from './health-watch.js';
import { SharedWatchPool, type Subscription } from './shared-watch-pool.js';

/**
 * Watches one Consul KV key with blocking queries, by the same index rules as
 * the health watch (first query without blocking, an index that goes
 * backwards starts over from 0, never below 1, a floor between queries, and
 * jittered backoff that keeps the last value on errors), and tells only real
 * changes. One watch per (Consul connection, key) in the process, shared by
 * every channel that asks, by the rules of SharedWatchPool: a hundred
 * channels reading one service config cost one blocking query, and a channel
 * that joins late gets the last value (the last error when there was never a
 * value).
 */
export type KeyEvent =
  /** The key's value; undefined when the key does not exist (or was deleted). */
  { readonly kind: 'value'; readonly value: string | undefined } | { readonly kind: 'error'; readonly error: ConsulError };

/** How long a KV blocking query may be held: changes to a service config are rare, Consul's default is 5 minutes. */
const KEY_WAIT_MS = 5 * 60_000;

async function watchKey(
  http: ConsulHttp,
  key: string,
  tell: (event: KeyEvent) => void,
  tuning: WatchTuning,
  signal: AbortSignal,
): Promise<void> {
  const backoff = new Backoff({ ...tuning.backoff, jitter: 0.3 });
  let index = 0;
  let last: string | undefined | null = null;
  while (!signal.aborted) {
    const startedAt = Date.now();
    try {
      const result = await http.kvGet(key, index > 0 ? { index, waitMs: KEY_WAIT_MS } : {}, { signal });
      if (signal.aborted) return;
      backoff.reset();
      index = result.index < index ? 0 : Math.max(1, result.index);
      if (result.value !== last) {
        last = result.value;
        tell({ kind: 'value', value: result.value });
      }
      await sleep(tuning.minQueryIntervalMs - (Date.now() - startedAt), signal);
    } catch (error) {
      if (signal.aborted) return;
      index = 0;
      // The next answer is told even when the value is the same: the error came between.
      last = null;
      tell({ kind: 'error', error: error instanceof ConsulError ? error : new ConsulError('bad-response', String(error)) });
      await sleep(backoff.nextDelayMs(), signal);
    }
  }
}

function startKeyWatch(connection: ResolvedConnection, key: string, tuning: WatchTuning, tell: (event: KeyEvent) => void): () => void {
  const http = new ConsulHttp(connection);
  const controller = new AbortController();
  void watchKey(http, key, tell, tuning, controller.signal);
  return () => {
    controller.abort();
    http.close();
  };
}

export class KeyWatchPool {
  private readonly pool = new SharedWatchPool<KeyEvent>('a Consul KV watch listener', (event) => event.kind === 'value');

  subscribe(
    connection: ResolvedConnection,
    key: string,
    listener: (event: KeyEvent) => void,
    tuning: WatchTuning = DEFAULT_WATCH_TUNING,
    logger: Logger = silentLogger,
  ): Subscription {
    return this.pool.subscribe({
      key: JSON.stringify([connection.identity, key, tuning]),
      start: (tell) => startKeyWatch(connection, key, tuning, tell),
      listener,
      logger,
      fields: { key },
    });
  }
}

/** The process's pool of KV watches, used by every consul: resolver that reads a service config. */
export const sharedKeyWatches = new KeyWatchPool();
