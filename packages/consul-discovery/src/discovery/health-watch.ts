import type { ConsulHttp, HealthQuery, ServiceInstance } from '../consul/consul-http.js';
import { ConsulError } from '../consul/errors.js';
import { runBlockingQueries } from './blocking-queries.js';
import { servingInstances, weightsIdentity } from './consul-weights.js';
import type { DiscoverySpec } from './target.js';
import { trace } from './trace.js';
import { DEFAULT_WATCH_TUNING, type WatchTuning } from './watch-tuning.js';

/**
 * Watches the passing instances of one service and reports only real
 * changes. Blocking mode runs Consul's blocking queries by the rules every
 * watch here follows (blocking-queries.ts: index, floor between queries,
 * jittered backoff on errors); poll mode asks on a fixed interval (the seed
 * demo's design). On top of them, this watch's own: the last good set stays
 * what it was on errors, and is reported again when Consul answers with it
 * after one (whoever was told the error must hear that it is over); and an
 * empty answer right after Consul may have lost its state is held back for
 * a while (WatchTuning.emptyAfterRestartGraceMs).
 */
export interface WatchHandlers {
  /**
   * A new set of passing instances, de-duplicated: in Consul's order when
   * the query has `near` (nearest first), else sorted; at most `limit`.
   */
  readonly onInstances: (instances: readonly ServiceInstance[]) => void;
  /** Consul failed to answer; the watch retries on its own. */
  readonly onError: (error: ConsulError) => void;
}

/** An instance's identity in a set: the same id at another address is another endpoint. */
export function instanceKey(instance: ServiceInstance): string {
  return `${instance.id}@${instance.address}:${instance.port}`;
}

/** An instance's identity for a watch of `spec`: with weights on, a new state or new Weights is a change too. */
export function identityIn(spec: Pick<DiscoverySpec, 'weights' | 'allStates'>): (instance: ServiceInstance) => string {
  if (spec.allStates) return (instance) => `${instanceKey(instance)}:${instance.status}`;
  return spec.weights ? (instance) => `${instanceKey(instance)}:${weightsIdentity(instance)}` : instanceKey;
}

/** The instance id of an instanceKey (`id@address:port`); the key itself when it has no '@'. */
export function instanceIdOf(key: string): string {
  const at = key.lastIndexOf('@');
  return at < 0 ? key : key.slice(0, at);
}

export class HealthWatch {
  private controller: AbortController | undefined;
  private probing = false;
  private lastProbeAt = 0;
  private lastKeys: string | undefined;
  /** An error was reported after the last set: the next set is reported even if it is the same. */
  private errorSinceSet = false;

  constructor(
    private readonly http: ConsulHttp,
    private readonly spec: DiscoverySpec,
    private readonly handlers: WatchHandlers,
    private readonly tuning: WatchTuning = DEFAULT_WATCH_TUNING,
  ) {}

  get running(): boolean {
    return this.controller !== undefined;
  }

  start(): void {
    if (this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    void this.run(controller.signal);
  }

  /**
   * Checks at once that Consul still answers: a non-blocking read under
   * `probeTimeoutMs`, one at a time and at most one per
   * `minProbeIntervalMs`. A probe that fails is told as the watch's error,
   * and the loop starts over (the blocking query in flight aborted): a
   * query through a partition hangs rather than fails, and only a new one
   * answers within seconds once packets flow again.
   */
  probe(): void {
    const controller = this.controller;
    if (!controller || this.probing || Date.now() - this.lastProbeAt < this.tuning.minProbeIntervalMs) return;
    this.probing = true;
    this.lastProbeAt = Date.now();
    trace(`${this.spec.service}: probe sent${this.spec.dc !== undefined ? ` (dc ${this.spec.dc})` : ''}`);
    this.http
      .healthService(this.query(undefined), { signal: controller.signal, timeoutMs: this.tuning.probeTimeoutMs })
      .then(
        () => trace(`${this.spec.service}: probe answered`),
        (error: unknown) => {
          if (controller !== this.controller || controller.signal.aborted) return;
          const consulError = error instanceof ConsulError ? error : new ConsulError('bad-response', String(error));
          trace(`${this.spec.service}: probe failed (${consulError.message}); the watch starts over`);
          this.startOver(consulError);
        },
      )
      .finally(() => {
        this.probing = false;
      });
  }

  /** Aborts the loop (the query in flight with it), tells `error`, and runs a new loop from a non-blocking query. */
  private startOver(error: ConsulError): void {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.errorSinceSet = true;
    this.handlers.onError(error);
    void this.run(controller.signal);
  }

  /** Stops the loop and aborts the query in flight; no handler runs afterwards. */
  stop(): void {
    this.controller?.abort();
    this.controller = undefined;
    this.lastKeys = undefined;
    this.errorSinceSet = false;
  }

  private run(signal: AbortSignal): Promise<void> {
    const blocking = this.spec.mode === 'blocking';
    const service = this.spec.service;
    // Set when Consul may have lost its state; cleared by the next non-empty answer.
    let suspectRestart = false;
    let emptySince: number | undefined;
    return runBlockingQueries({
      blocking,
      floorMs: blocking ? this.tuning.minQueryIntervalMs : this.spec.pollIntervalMs,
      backoff: this.tuning.backoff,
      signal,
      ask: (index) => {
        trace(`${service}: query sent${index !== undefined ? `, blocking on index ${index}` : ''}`);
        return this.http.healthService(this.query(index), { signal });
      },
      answered: (result, wentBack) => {
        const instances = this.spec.weights && !this.spec.allStates ? servingInstances(result.instances) : result.instances;
        trace(
          `${service}: answer from ${result.endpoint}, index ${result.index}, ${instances.length} ${this.spec.allStates ? 'registered' : this.spec.weights ? 'serving' : 'passing'}`,
        );
        if (wentBack) suspectRestart = true;
        if (instances.length > 0) {
          suspectRestart = false;
          emptySince = undefined;
          this.publish(instances);
        } else if (suspectRestart && this.lastKeys !== undefined && this.lastKeys !== '') {
          emptySince ??= Date.now();
          if (Date.now() - emptySince >= this.tuning.emptyAfterRestartGraceMs) {
            suspectRestart = false;
            this.publish([]);
          } else {
            trace(`${service}: empty answer held back (Consul may have restarted and lost its registrations)`);
          }
          // Re-ask soon rather than block: the grace period must be able to end.
          if (suspectRestart && blocking) return { askAgainInMs: Math.min(1_000, this.tuning.emptyAfterRestartGraceMs) };
        } else {
          this.publish([]);
        }
        return undefined;
      },
      failed: (error, retryInMs) => {
        suspectRestart = true;
        this.errorSinceSet = true;
        trace(`${service}: query failed (${error.message}), next in ${retryInMs} ms`);
        this.handlers.onError(error);
      },
    });
  }

  /** The health query of this watch's spec; blocking on `index` when there is one. */
  private query(index: number | undefined): HealthQuery {
    return {
      service: this.spec.service,
      // With weights on, instances in warning state are called too (at their Warning weight).
      passingOnly: this.spec.weights === undefined && !this.spec.allStates,
      tags: this.spec.tags,
      ...(this.spec.dc !== undefined && { dc: this.spec.dc }),
      ...(this.spec.near !== undefined && { near: this.spec.near }),
      ...(this.spec.filter !== undefined && { filter: this.spec.filter }),
      consistency: this.spec.consistency,
      ...(this.spec.maxStaleMs !== undefined && { maxStaleMs: this.spec.maxStaleMs }),
      ...(this.spec.cached !== undefined && { cached: this.spec.cached }),
      ...(index !== undefined && { index, waitMs: this.spec.waitMs }),
    };
  }

  private publish(instances: readonly ServiceInstance[]): void {
    const identity = identityIn(this.spec);
    const unique = new Map<string, ServiceInstance>();
    for (const instance of instances) if (!unique.has(identity(instance))) unique.set(identity(instance), instance);
    // The limit takes the first in Consul's order (with near: the nearest).
    const chosen = [...unique.keys()].slice(0, this.spec.limit);
    // With near, the order is the answer (pick_first tries the nearest
    // first), so a new order is a change; without, Consul's order means
    // nothing and sorting keeps it from counting as one.
    if (this.spec.near === undefined) chosen.sort();
    const keys = chosen.join(',');
    if (keys === this.lastKeys && !this.errorSinceSet) return;
    this.lastKeys = keys;
    this.errorSinceSet = false;
    this.handlers.onInstances(chosen.map((key) => unique.get(key) as ServiceInstance));
  }
}
