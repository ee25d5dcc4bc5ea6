import { type ResolvedConnection } from '../consul/connection.js';
import { ConsulHttp, type ServiceInstance } from '../consul/consul-http.js';
import type { ConsulError } from '../consul/errors.js';
import { type Logger, silentLogger } from '../internal/logger.js';
import { HealthWatch } from './health-watch.js';
import { DEFAULT_WATCH_TUNING, type WatchTuning } from './watch-tuning.js';
import { type RunningWatch, SharedWatchPool, type Subscription } from './shared-watch-pool.js';
import type { DiscoverySpec } from './target.js';

export type { Subscription } from './shared-watch-pool.js';

/**
 * One health watch per (Consul connection, service, query) in a process,
 * shared by every channel that asks, by the rules of SharedWatchPool: a
 * channel that joins late gets the last set of instances at once (the last
 * error when there was never a set).
 */
export type WatchEvent =
  { readonly kind: 'instances'; readonly instances: readonly ServiceInstance[] } | { readonly kind: 'error'; readonly error: ConsulError };

export class WatchPool {
  private readonly pool = new SharedWatchPool<WatchEvent>('a Consul watch listener', (event) => event.kind === 'instances');

  /** Watches running now; each is one query loop against Consul. */
  get size(): number {
    return this.pool.size;
  }

  subscribe(
    connection: ResolvedConnection,
    spec: DiscoverySpec,
    listener: (event: WatchEvent) => void,
    tuning: WatchTuning = DEFAULT_WATCH_TUNING,
    /** Where a listener that throws is reported (once). */
    logger: Logger = silentLogger,
  ): Subscription {
    return this.pool.subscribe({
      key: JSON.stringify([connection.identity, spec, tuning]),
      start: (tell) => startHealthWatch(connection, spec, tuning, tell),
      listener,
      logger,
      fields: { service: spec.service },
    });
  }
}

function startHealthWatch(
  connection: ResolvedConnection,
  spec: DiscoverySpec,
  tuning: WatchTuning,
  tell: (event: WatchEvent) => void,
): RunningWatch {
  const http = new ConsulHttp(connection);
  const watch = new HealthWatch(
    http,
    spec,
    { onInstances: (instances) => tell({ kind: 'instances', instances }), onError: (error) => tell({ kind: 'error', error }) },
    tuning,
  );
  watch.start();
  return {
    stop: () => {
      watch.stop();
      http.close();
    },
    probe: () => watch.probe(),
  };
}

/** The process's pool, used by every consul: resolver. */
export const sharedWatches = new WatchPool();
