import { sleep } from '../abortable-sleep.js';
import { Backoff } from '../backoff.js';
import { type ConsulClient, describeError, type ServiceInstance } from '../consul/consul-client.js';
import type { ConsulTarget } from './consul-target.js';

/**
 * Watches the passing instances of one service in Consul and reports only
 * real changes. Blocking mode follows Consul's rules for blocking queries:
 * an index that goes backwards resets to 0, an index is never below 1 once
 * known, and the loop is rate limited because an answer does not mean that
 * anything changed. Poll mode queries on a fixed interval (the seed's design).
 */
export interface WatchHandlers {
  /** A new set of passing instances (sorted, de-duplicated by id). */
  readonly onInstances: (instances: readonly ServiceInstance[]) => void;
  /** Consul failed to answer; the watcher retries with backoff on its own. */
  readonly onError: (message: string) => void;
}

export interface WatchTuning {
  /** Least time between two queries, whatever Consul answers. */
  readonly minQueryIntervalMs: number;
  /**
   * How long an EMPTY answer right after Consul restarted (index went
   * backwards, or queries failed) is held back: a restarted dev agent knows no
   * instance until they re-register, one heartbeat later, and the client
   * should keep calling the old ones meanwhile.
   */
  readonly emptyAfterRestartGraceMs: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
}

export const DEFAULT_WATCH_TUNING: WatchTuning = {
  minQueryIntervalMs: 50,
  emptyAfterRestartGraceMs: 10_000,
  backoff: { initialMs: 200, maxMs: 3_000 },
};

export function instanceKey(instance: ServiceInstance): string {
  return `${instance.id}@${instance.address}:${instance.port}`;
}

export class HealthWatcher {
  private controller: AbortController | undefined;
  private lastKeys: string | undefined;

  constructor(
    private readonly client: ConsulClient,
    private readonly target: ConsulTarget,
    private readonly handlers: WatchHandlers,
    private readonly tuning: WatchTuning = DEFAULT_WATCH_TUNING,
  ) {}

  start(): void {
    if (this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    void this.run(controller.signal);
  }

  /** Stops the loop and aborts the query in flight; no handler runs afterwards. */
  stop(): void {
    this.controller?.abort();
    this.controller = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.tuning.backoff);
    const blocking = this.target.mode === 'blocking';
    let index = 0;
    // Set when Consul may have lost its state; cleared by the next non-empty answer.
    let suspectRestart = false;
    let emptySince: number | undefined;
    while (!signal.aborted) {
      const startedAt = Date.now();
      try {
        const result = await this.client.passingInstances({
          service: this.target.service,
          ...(this.target.tag !== undefined && { tag: this.target.tag }),
          ...(this.target.dc !== undefined && { dc: this.target.dc }),
          ...(blocking && { index, waitMs: this.target.waitMs }),
          signal,
        });
        if (signal.aborted) return;
        backoff.reset();
        if (blocking) {
          if (result.index < index) suspectRestart = true;
          index = result.index < index ? 0 : Math.max(1, result.index);
        }
        if (result.instances.length > 0) {
          suspectRestart = false;
          emptySince = undefined;
          this.publish(result.instances);
        } else if (suspectRestart && this.lastKeys !== undefined && this.lastKeys !== '') {
          emptySince ??= Date.now();
          if (Date.now() - emptySince >= this.tuning.emptyAfterRestartGraceMs) {
            suspectRestart = false;
            this.publish([]);
          } else if (blocking) {
            // Re-ask soon rather than block: the grace period must be able to end.
            index = 0;
            await sleep(Math.min(1_000, this.tuning.emptyAfterRestartGraceMs), signal);
          }
        } else {
          this.publish([]);
        }
        const elapsed = Date.now() - startedAt;
        const pause = blocking ? this.tuning.minQueryIntervalMs - elapsed : this.target.pollIntervalMs - elapsed;
        if (pause > 0) await sleep(pause, signal);
      } catch (error) {
        if (signal.aborted) return;
        // After a failure Consul may have restarted with a lower index: start
        // from 0 so the next answer comes at once instead of after the wait.
        index = 0;
        suspectRestart = true;
        this.handlers.onError(describeError(error));
        await sleep(backoff.nextDelayMs(), signal);
      }
    }
  }

  private publish(instances: readonly ServiceInstance[]): void {
    const unique = new Map(instances.map((instance) => [instanceKey(instance), instance]));
    const sorted = [...unique.keys()].sort();
    const keys = sorted.join(',');
    if (keys === this.lastKeys) return;
    this.lastKeys = keys;
    this.handlers.onInstances(sorted.map((key) => unique.get(key) as ServiceInstance));
  }
}
