import { type ResolvedConnection } from '../consul/connection.js';
import { ConsulHttp, type ServiceInstance } from '../consul/consul-http.js';
import type { ConsulError } from '../consul/errors.js';
import { isolated } from '../internal/isolate.js';
import { type Logger, silentLogger } from '../internal/logger.js';
import { DEFAULT_WATCH_TUNING, HealthWatch, type WatchTuning } from './health-watch.js';
import type { DiscoverySpec } from './target.js';

/**
 * One watch per (Consul connection, service, query) in a process, shared by
 * every channel that asks: a hundred channels to one service cost Consul one
 * blocking query, not a hundred (many watchers on one agent raise its
 * latency for everyone). A subscriber that joins late gets the last result at
 * once; the watch stops when its last subscriber leaves. Subscribers are told
 * in isolation: one that throws is logged once and stops no other.
 */
export type WatchEvent =
  { readonly kind: 'instances'; readonly instances: readonly ServiceInstance[] } | { readonly kind: 'error'; readonly error: ConsulError };

export interface Subscription {
  unsubscribe(): void;
}

/** One subscription: its own object, so the same function subscribed twice is two subscribers. */
interface Subscriber {
  readonly tell: (event: WatchEvent) => void;
}

interface SharedWatch {
  readonly watch: HealthWatch;
  readonly http: ConsulHttp;
  readonly subscribers: Set<Subscriber>;
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
    /** Where a listener that throws is reported (once). */
    logger: Logger = silentLogger,
  ): Subscription {
    const key = JSON.stringify([connection.identity, spec, tuning]);
    const subscriber: Subscriber = { tell: isolated(listener, logger, 'a Consul watch listener', { service: spec.service }) };
    let shared = this.watches.get(key);
    if (!shared) {
      const http = new ConsulHttp(connection);
      const created: SharedWatch = {
        http,
        subscribers: new Set(),
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
        if (shared?.subscribers.has(subscriber)) subscriber.tell(last);
      });
    }
    shared.subscribers.add(subscriber);
    const owner = shared;
    return {
      unsubscribe: () => {
        if (!owner.subscribers.delete(subscriber) || owner.subscribers.size > 0) return;
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
  for (const subscriber of [...shared.subscribers]) {
    // One subscriber may end another's subscription (a channel closed from its
    // onEvent): from then on that one hears nothing, this event included.
    if (shared.subscribers.has(subscriber)) subscriber.tell(event);
  }
}

/** The process's pool, used by every consul: resolver. */
export const sharedWatches = new WatchPool();
