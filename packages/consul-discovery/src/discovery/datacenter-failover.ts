import type { ResolvedConnection } from '../consul/connection.js';
import type { ConsulError } from '../consul/errors.js';
import { DatacenterErrors, whyFailed } from './datacenter-errors.js';
import type { Logger } from '../internal/logger.js';
import type { WatchTuning } from './watch-tuning.js';
import type { DatacenterChoice, DiscoverySpec } from './target.js';
import { trace } from './trace.js';
import { sharedWatches, type Subscription, type WatchEvent } from './watch-pool.js';

/** A watch's event, with the datacenter its instances come from. */
export type DatacenterEvent = WatchEvent & {
  /** The datacenter the instances come from; absent when merged, or when none has any. */
  readonly datacenter?: string;
};

/** The datacenter in use changed: `to` undefined when none has instances; `from` undefined at the first choice. */
export interface DatacenterChange {
  readonly from: string | undefined;
  readonly to: string | undefined;
  /** What the datacenters ahead of `to` said ("dc1: Consul unreachable"), or what `to` has. */
  readonly reason: string;
}

export interface DatacenterFailoverOptions {
  readonly choice: DatacenterChoice;
  /** The target's spec, without dc. */
  readonly spec: DiscoverySpec;
  /** The Consul each datacenter's watch asks. */
  readonly connectionFor: (datacenter: string) => ResolvedConnection;
  readonly tuning: WatchTuning;
  readonly logger: Logger;
  /** Where log lines name the channel. */
  readonly target: string;
  readonly onEvent: (event: DatacenterEvent) => void;
  readonly onChange: (change: DatacenterChange) => void;
  /** A datacenter's watch failed (told once per datacenter and message until it answers again). */
  readonly onDatacenterError: (datacenter: string, error: ConsulError) => void;
}

/** Why a datacenter is not used, in a few words. */
function whyNot(datacenter: string, last: WatchEvent): string {
  return last.kind === 'instances' ? `${datacenter}: no passing instance` : whyFailed(datacenter, last.error);
}

/**
 * One channel's choice among datacenters (`dc=dc1,dc2`): each listed
 * datacenter has its own shared watch (blocking queries through that
 * datacenter's own Consul when the caller gave one), and the channel gets the
 * instances of the first datacenter, in the target's order, whose last
 * answer has any; a datacenter whose watch fails counts as having none. Only
 * with `merge-dc` are datacenters mixed.
 *
 * Nothing is chosen before every datacenter ahead of the choice has answered
 * or failed: starting on dc2 because dc1's first answer is a few ms late
 * would move every call twice.
 */
export class DatacenterFailover {
  /** Each datacenter's last answer or failure; none yet: not answered. */
  private readonly last = new Map<string, WatchEvent>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly errors: DatacenterErrors;
  private inUse: string | undefined;
  private decided = false;

  constructor(private readonly options: DatacenterFailoverOptions) {
    this.errors = new DatacenterErrors(options.target, options.logger, options.onDatacenterError);
  }

  start(): void {
    for (const datacenter of this.options.choice.order) {
      if (this.subscriptions.has(datacenter)) continue;
      const spec: DiscoverySpec = { ...this.options.spec, dc: datacenter };
      this.subscriptions.set(
        datacenter,
        sharedWatches.subscribe(
          this.options.connectionFor(datacenter),
          spec,
          (event) => this.onWatchEvent(datacenter, event),
          this.options.tuning,
          this.options.logger,
        ),
      );
    }
  }

  /** Forgets every answer: a new start() chooses again from what the shared watches tell. */
  stop(): void {
    for (const subscription of this.subscriptions.values()) subscription.unsubscribe();
    this.subscriptions.clear();
    this.last.clear();
    this.errors.clear();
    this.inUse = undefined;
    this.decided = false;
  }

  /**
   * grpc-js asks for re-resolution when a connection drops: checks that the
   * Consul of each datacenter in use still answers. One that does not is
   * failed by its watch (and its blocking query started over), which moves
   * the channel on.
   */
  probe(): void {
    const inUse = this.options.choice.merge
      ? this.options.choice.order.filter((datacenter) => this.has(datacenter))
      : this.inUse !== undefined
        ? [this.inUse]
        : [];
    for (const datacenter of inUse) this.subscriptions.get(datacenter)?.probe();
  }

  private has(datacenter: string): boolean {
    const last = this.last.get(datacenter);
    return last?.kind === 'instances' && last.instances.length > 0;
  }

  private onWatchEvent(datacenter: string, event: WatchEvent): void {
    this.last.set(datacenter, event);
    if (event.kind === 'error') this.errors.failed(datacenter, event.error, this.inUse);
    else this.errors.answered(datacenter);
    trace(
      `${this.options.spec.service}: dc ${datacenter} ${event.kind === 'instances' ? `has ${event.instances.length} passing` : 'failed'}`,
    );
    if (this.options.choice.merge) this.merge();
    else this.choose();
  }

  private choose(): void {
    const skipped: string[] = [];
    for (const datacenter of this.options.choice.order) {
      const last = this.last.get(datacenter);
      // Not answered yet: nothing is chosen past it.
      if (last === undefined) return;
      if (last.kind === 'instances' && last.instances.length > 0) {
        const reason = skipped.length > 0 ? skipped.join('; ') : `${datacenter}: ${last.instances.length} passing`;
        this.use(datacenter, reason);
        this.options.onEvent({ kind: 'instances', instances: last.instances, datacenter });
        return;
      }
      skipped.push(whyNot(datacenter, last));
    }
    this.use(undefined, skipped.join('; '));
    this.options.onEvent(this.noneEvent());
  }

  private merge(): void {
    const answers = this.options.choice.order.map((datacenter) => this.last.get(datacenter));
    if (answers.some((last) => last === undefined)) return;
    const instances = answers.flatMap((last) => (last?.kind === 'instances' ? last.instances : []));
    this.decided = true;
    this.options.onEvent(instances.length > 0 ? { kind: 'instances', instances } : this.noneEvent());
  }

  /**
   * No datacenter has instances: as a single-datacenter target, an empty
   * set when every one answered so, else the first failure (the channel
   * keeps its last set through an error).
   */
  private noneEvent(): DatacenterEvent {
    for (const datacenter of this.options.choice.order) {
      const last = this.last.get(datacenter);
      if (last?.kind === 'error') return { kind: 'error', error: last.error, datacenter };
    }
    return { kind: 'instances', instances: [] };
  }

  private use(datacenter: string | undefined, reason: string): void {
    if (this.decided && datacenter === this.inUse) return;
    const from = this.inUse;
    this.inUse = datacenter;
    this.decided = true;
    trace(`${this.options.spec.service}: datacenter ${from ?? 'none'} -> ${datacenter ?? 'none'} (${reason})`);
    this.options.onChange({ from, to: datacenter, reason });
  }
}
