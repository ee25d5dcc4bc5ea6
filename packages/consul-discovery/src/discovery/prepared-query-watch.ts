import type { ResolvedConnection } from '../consul/connection.js';
import { ConsulHttp, type PreparedQueryResult } from '../consul/consul-http.js';
import { ConsulError } from '../consul/errors.js';
import { Backoff } from '../internal/backoff.js';
import { runBlockingQueries } from './blocking-queries.js';
import type { Logger } from '../internal/logger.js';
import { DatacenterErrors, whyFailed } from './datacenter-errors.js';
import type { DatacenterChange, DatacenterEvent } from './datacenter-failover.js';
import { instanceKey } from './health-watch.js';
import type { WatchTuning } from './watch-tuning.js';
import type { DiscoverySpec } from './target.js';
import { trace } from './trace.js';

/**
 * A `query=NAME` target: the prepared query executed every `interval`
 * (execute cannot block, so it is polled; with `cached`, the agent answers
 * from its cache), the alternative to watching each datacenter. The query's
 * own `Failover` picks the datacenter; the answer says which one served and
 * how many it failed over. With `dc=a,b`, it is executed at the first listed
 * datacenter whose Consul answers (each through its own Consul when the
 * caller gave one): a datacenter whose Consul failed is skipped until its
 * backoff ends, then asked first again.
 */
export type QueryEvent = DatacenterEvent & { readonly failovers?: number };

export interface PreparedQueryWatchOptions {
  readonly name: string;
  readonly spec: DiscoverySpec;
  /** Where to execute it, in order; [undefined]: the agent's own datacenter. */
  readonly datacenters: readonly (string | undefined)[];
  readonly connectionFor: (datacenter: string | undefined) => ResolvedConnection;
  readonly tuning: WatchTuning;
  readonly onEvent: (event: QueryEvent) => void;
  readonly onChange: (change: DatacenterChange) => void;
  /** A listed datacenter's Consul failed (told once per datacenter and message until it answers again). */
  readonly onDatacenterError: (datacenter: string, error: ConsulError) => void;
  readonly logger: Logger;
  /** Where log lines name the channel. */
  readonly target: string;
}

interface Site {
  readonly datacenter: string | undefined;
  readonly http: ConsulHttp;
  readonly backoff: Backoff;
  downUntil: number;
  lastError?: ConsulError;
}

export class PreparedQueryWatch {
  private controller: AbortController | undefined;
  private sites: Site[] = [];
  private lastKey: string | undefined;
  private errorSinceSet = false;
  private servedBy: string | undefined;
  private readonly errors: DatacenterErrors;

  constructor(private readonly options: PreparedQueryWatchOptions) {
    this.errors = new DatacenterErrors(options.target, options.logger, options.onDatacenterError);
  }

  start(): void {
    if (this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    this.sites = this.options.datacenters.map((datacenter) => ({
      datacenter,
      http: new ConsulHttp(this.options.connectionFor(datacenter)),
      backoff: new Backoff({ ...this.options.tuning.backoff, jitter: 0.3 }),
      downUntil: 0,
    }));
    void runBlockingQueries<PreparedQueryResult>({
      blocking: false,
      floorMs: this.options.spec.pollIntervalMs,
      backoff: this.options.tuning.backoff,
      signal: controller.signal,
      ask: () => this.executeAtFirstAnswering(controller.signal),
      answered: (result) => {
        this.publish(result);
        return undefined;
      },
      failed: (error) => {
        this.errorSinceSet = true;
        this.options.onEvent({ kind: 'error', error });
      },
    });
  }

  stop(): void {
    this.controller?.abort();
    this.controller = undefined;
    for (const site of this.sites) site.http.close();
    this.sites = [];
    this.lastKey = undefined;
    this.servedBy = undefined;
    this.errors.clear();
  }

  /**
   * The listed datacenters in order, skipping those down; every attempt but
   * the last has `probeTimeoutMs`: a partitioned Consul hangs, and the next
   * datacenter should not wait a whole request's deadline behind it.
   */
  private async executeAtFirstAnswering(signal: AbortSignal): Promise<PreparedQueryResult> {
    const now = Date.now();
    const up = this.sites.filter((site) => site.downUntil <= now);
    const candidates = up.length > 0 ? up : this.sites;
    let lastError: ConsulError | undefined;
    for (const [position, site] of candidates.entries()) {
      const isLast = position === candidates.length - 1;
      try {
        const result = await site.http.executeQuery(
          {
            name: this.options.name,
            ...(site.datacenter !== undefined && { dc: site.datacenter }),
            ...(this.options.spec.near !== undefined && { near: this.options.spec.near }),
            ...(this.options.spec.limit !== undefined && { limit: this.options.spec.limit }),
            ...(this.options.spec.cached !== undefined && { cached: this.options.spec.cached }),
          },
          { signal, ...(!isLast && { timeoutMs: this.options.tuning.probeTimeoutMs }) },
        );
        site.backoff.reset();
        site.downUntil = 0;
        delete site.lastError;
        if (site.datacenter !== undefined) this.errors.answered(site.datacenter);
        return result;
      } catch (error) {
        if (signal.aborted) throw error;
        lastError = error instanceof ConsulError ? error : new ConsulError('bad-response', String(error));
        site.lastError = lastError;
        site.downUntil = Date.now() + site.backoff.nextDelayMs();
        // Only a listed datacenter is named: the agent's own (no dc) fails as a single target does, through the poll's error.
        if (site.datacenter !== undefined && this.sites.length > 1) this.errors.failed(site.datacenter, lastError, this.servedBy);
        trace(
          `${this.options.spec.service}: prepared query ${this.options.name} at dc ${site.datacenter ?? '(agent)'} failed: ${lastError.message}`,
        );
      }
    }
    throw lastError ?? new ConsulError('unreachable', `no datacenter to execute prepared query ${this.options.name} at`);
  }

  private publish(result: PreparedQueryResult): void {
    const instances = [...result.instances].sort((a, b) => instanceKey(a).localeCompare(instanceKey(b)));
    const key = `${result.datacenter}:${instances.map(instanceKey).join(',')}`;
    trace(
      `${this.options.spec.service}: prepared query ${this.options.name} answered from ${result.endpoint}: dc ${result.datacenter}, ${instances.length} instances, ${result.failovers} failovers`,
    );
    if (key === this.lastKey && !this.errorSinceSet) return;
    this.lastKey = key;
    this.errorSinceSet = false;
    const servedBy = instances.length > 0 ? result.datacenter : undefined;
    if (servedBy !== this.servedBy) {
      const from = this.servedBy;
      this.servedBy = servedBy;
      const skipped = this.sites.flatMap((site) =>
        site.lastError === undefined ? [] : [whyFailed(site.datacenter ?? 'the agent', site.lastError)],
      );
      const reason = [
        ...skipped,
        servedBy === undefined
          ? `prepared query ${this.options.name}: no instance in any datacenter it fails over to`
          : `prepared query ${this.options.name} served from ${servedBy} (Failovers: ${result.failovers})`,
      ].join('; ');
      this.options.onChange({ from, to: servedBy, reason });
    }
    this.options.onEvent({
      kind: 'instances',
      instances,
      ...(servedBy !== undefined && { datacenter: servedBy }),
      failovers: result.failovers,
    });
  }
}
