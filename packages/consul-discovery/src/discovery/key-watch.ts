import type { ResolvedConnection } from '../consul/connection.js';
import { ConsulHttp } from '../consul/consul-http.js';
import type { ConsulError } from '../consul/errors.js';
import { type Logger, silentLogger } from '../internal/logger.js';
import { runBlockingQueries } from './blocking-queries.js';
import { DEFAULT_WATCH_TUNING, type WatchTuning } from './watch-tuning.js';
import { type RunningWatch, SharedWatchPool, type Subscription } from './shared-watch-pool.js';

/**
 * Watches one Consul KV key with blocking queries (runBlockingQueries: the
 * health watch's index rules, and jittered backoff that keeps the last value
 * on errors), and tells only real changes. One watch per (Consul connection,
 * key) in the process, shared by every channel that asks, by the rules of
 * SharedWatchPool: a hundred channels reading one service config cost one
 * blocking query, and a channel that joins late gets the last value (the last
 * error when there was never a value).
 */
export type KeyEvent =
  /** The key's value; undefined when the key does not exist (or was deleted). */
  { readonly kind: 'value'; readonly value: string | undefined } | { readonly kind: 'error'; readonly error: ConsulError };

/** How long a KV blocking query may be held: changes to a service config are rare, Consul's default is 5 minutes. */
const KEY_WAIT_MS = 5 * 60_000;

function watchKey(http: ConsulHttp, key: string, tell: (event: KeyEvent) => void, tuning: WatchTuning, signal: AbortSignal): Promise<void> {
  // null: nothing told yet, or an error since (the next answer is told even when the value is the same: the error came between).
  let last: string | undefined | null = null;
  return runBlockingQueries({
    blocking: true,
    floorMs: tuning.minQueryIntervalMs,
    backoff: tuning.backoff,
    signal,
    ask: (index) => http.kvGet(key, index !== undefined ? { index, waitMs: KEY_WAIT_MS } : {}, { signal }),
    answered: (result) => {
      if (result.value !== last) {
        last = result.value;
        tell({ kind: 'value', value: result.value });
      }
      return undefined;
    },
    failed: (error) => {
      last = null;
      tell({ kind: 'error', error });
    },
  });
}

function startKeyWatch(connection: ResolvedConnection, key: string, tuning: WatchTuning, tell: (event: KeyEvent) => void): RunningWatch {
  const http = new ConsulHttp(connection);
  const controller = new AbortController();
  void watchKey(http, key, tell, tuning, controller.signal);
  return {
    stop: () => {
      controller.abort();
      http.close();
    },
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
