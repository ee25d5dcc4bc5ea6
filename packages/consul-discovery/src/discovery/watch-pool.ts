import { type ResolvedConnection } from '../consul/connection.js';
import { ConsulHttp, type ServiceInstance } from '../consul/consul-http.js';
import type { ConsulError } from '../consul/errors.js';
import { DEFAULT_WATCH_TUNING, HealthWatch, type WatchTuning } from './health-watch.js';
import type { DiscoverySpec } from './target.js';

/**
 * One watch per (Consul connection, service, query) in a process, shared by
 * every channel that asks: a hundred channels to one service cost Consul one
 * blocking query, not a hundred (many watchers on one agent raise its
 * latency for everyone). A subscriber that joins late gets the last result at
 * once; the watch stops when its last subscriber leaves.
 */
export type WatchEvent =
  { readonly kind: 'instances'; readonly instances: readonly ServiceInstance[] } | { readonly kind: 'error'; readonly error: ConsulError };

export interface Subscription {
  unsubscribe(): void;
}

interface SharedWatch {
  readonly watch: HealthWatch;
  readonly http: ConsulHttp;
  readonly listeners: Set<(event: WatchEvent) => void>;
  /** What a late subscriber gets: the last good set when there is one (calls work with it), else the last error. */
  lastInstances: WatchEvent | undefined;
  lastError: WatchEvent | undefined;
}

export class WatchPool {
  private readonly watches = new Map<string, SharedWatch>();

  /** Watches running now; each is one query loop against Consul. */
  get size(): number {
    return this.watches.size;
  }

  subscribe(
    connection: ResolvedConnection,
    spec: DiscoverySpec,
    listener: (event: WatchEvent) => void,
    tuning: WatchTuning = DEFAULT_WATCH_TUNING,
  ): Subscription {
    const key = JSON.stringify([connection.identity, spec, tuning]);
    let shared = this.watches.get(key);
    if (!shared) {
      const http = new ConsulHttp(connection);
      const listeners = new Set<(event: WatchEvent) => void>();
      const created: SharedWatch = {
        http,
        listeners,
        lastInstances: undefined,
        lastError: undefined,
        watch: new HealthWatch(
          http,
          spec,
          {
            onInstances: (instances) => deliver(created, { kind: 'instances', instances }),
            onError: (error) => deliver(created, { kind: 'error', error }),
          },
          tuning,
        ),
      };
      shared = created;
      this.watches.set(key, shared);
      shared.watch.start();
    } else if ((shared.lastInstances ?? shared.lastError) !== undefined) {
      // A late subscriber gets what the others already have, on the next tick
      // (a resolver must never be answered synchronously).
      const last = (shared.lastInstances ?? shared.lastError) as WatchEvent;
      process.nextTick(() => {
        if (shared?.listeners.has(listener)) listener(last);
      });
    }
    shared.listeners.add(listener);
    const owner = shared;
    return {
      unsubscribe: () => {
        if (!owner.listeners.delete(listener) || owner.listeners.size > 0) return;
        owner.watch.stop();
        owner.http.close();
        this.watches.delete(key);
      },
    };
  }
}

function deliver(shared: SharedWatch, event: WatchEvent): void {
  if (event.kind === 'instances') shared.lastInstances = event;
  else shared.lastError = event;
  for (const listener of [...shared.listeners]) listener(event);
}

/** The process's pool, used by every consul: resolver. */
export const sharedWatches = new WatchPool();
