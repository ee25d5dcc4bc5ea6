import type { ResolvedConnection } from '../consul/connection.js';
import { ConsulHttp } from '../consul/consul-http.js';
import { ConsulError } from '../consul/errors.js';
import { Backoff } from '../internal/backoff.js';
import { isolated } from '../internal/isolate.js';
import { type Logger, silentLogger } from '../internal/logger.js';
import { sleep } from '../internal/sleep.js';
import { DEFAULT_WATCH_TUNING, type WatchTuning } from './health-watch.js';

/**
 * Watches one Consul KV key with blocking queries, by the same index rules as
 * the health watch (first query without blocking, an index that goes
 * backwards starts over from 0, never below 1, a floor between queries, and
 * jittered backoff that keeps the last value on errors), and tells only real
 * changes. One watch per (Consul connection, key) in the process, shared by
 * every channel that asks, as health watches are: a hundred channels reading
 * one service config cost one blocking query.
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

interface SharedKey {
  readonly http: ConsulHttp;
  readonly controller: AbortController;
  readonly subscribers: Set<{ readonly tell: (event: KeyEvent) => void }>;
  /** What a late subscriber is told: the last value when there is one (a channel can use it), else the last error. */
  lastValue: KeyEvent | undefined;
  lastError: KeyEvent | undefined;
}

export class KeyWatchPool {
  private readonly watches = new Map<string, SharedKey>();

  /** A late subscriber is told the last value (or error) on the next tick; the watch stops with its last subscriber. */
  subscribe(
    connection: ResolvedConnection,
    key: string,
    listener: (event: KeyEvent) => void,
    tuning: WatchTuning = DEFAULT_WATCH_TUNING,
    logger: Logger = silentLogger,
  ): { unsubscribe(): void } {
    const poolKey = JSON.stringify([connection.identity, key, tuning]);
    const subscriber = { tell: isolated(listener, logger, 'a Consul KV watch listener', { key }) };
    let shared = this.watches.get(poolKey);
    if (!shared) {
      const created: SharedKey = {
        http: new ConsulHttp(connection),
        controller: new AbortController(),
        subscribers: new Set(),
        lastValue: undefined,
        lastError: undefined,
      };
      shared = created;
      this.watches.set(poolKey, created);
      const tell = (event: KeyEvent): void => {
        if (event.kind === 'value') created.lastValue = event;
        else created.lastError = event;
        for (const one of [...created.subscribers]) if (created.subscribers.has(one)) one.tell(event);
      };
      void watchKey(created.http, key, tell, tuning, created.controller.signal);
    } else if ((shared.lastValue ?? shared.lastError) !== undefined) {
      const last = (shared.lastValue ?? shared.lastError) as KeyEvent;
      const owner = shared;
      process.nextTick(() => {
        if (owner.subscribers.has(subscriber)) subscriber.tell(last);
      });
    }
    shared.subscribers.add(subscriber);
    const owner = shared;
    return {
      unsubscribe: () => {
        if (!owner.subscribers.delete(subscriber) || owner.subscribers.size > 0) return;
        owner.controller.abort();
        owner.http.close();
        this.watches.delete(poolKey);
      },
    };
  }
}

/** The process's pool of KV watches, used by every consul: resolver that reads a service config. */
export const sharedKeyWatches = new KeyWatchPool();
