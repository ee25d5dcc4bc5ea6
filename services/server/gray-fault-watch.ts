import type { ConsulHttp } from '@grpc-consul-lab/consul-discovery';
import type { Logger } from 'pino';
import { describeGrayFault, type GrayFault, parseGrayFault } from '../../packages/contracts/gray-fault.js';

/**
 * Follows one KV key with blocking queries (Consul's rules: the first query
 * does not block, an index that goes backwards starts over) and keeps the
 * fault it holds as `current`. A value that is not a fault is logged once and
 * ignored (no fault): a typo must not take an instance down. When Consul
 * does not answer, the last fault stays until it does.
 */
const WAIT_MS = 5 * 60_000;
const RETRY_MS = { initial: 500, max: 5_000 };
const MIN_QUERY_INTERVAL_MS = 50;

export interface GrayFaultWatchOptions {
  readonly consul: ConsulHttp;
  /** The KV key that holds this instance's fault (faultKey in packages/contracts/gray-fault.ts). */
  readonly key: string;
  readonly logger: Logger;
  /** Called with the new fault, or undefined, each time it changes. */
  readonly onChange?: (fault: GrayFault | undefined) => void;
}

export class GrayFaultWatch {
  private fault: GrayFault | undefined;
  private readonly controller = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(private readonly options: GrayFaultWatchOptions) {}

  get current(): GrayFault | undefined {
    return this.fault;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    let index = 0;
    let lastValue: string | undefined;
    let retryMs = RETRY_MS.initial;
    while (!signal.aborted) {
      try {
        const askedAt = Date.now();
        const answer = await this.options.consul.kvGet(this.options.key, { index, waitMs: WAIT_MS }, { signal });
        retryMs = RETRY_MS.initial;
        // A floor between queries, whatever Consul answers.
        if (Date.now() - askedAt < MIN_QUERY_INTERVAL_MS) await new Promise((resolve) => setTimeout(resolve, MIN_QUERY_INTERVAL_MS));
        index = answer.index < index ? 0 : Math.max(1, answer.index);
        if (answer.value === lastValue) continue;
        lastValue = answer.value;
        this.apply(answer.value);
      } catch (error) {
        if (signal.aborted) break;
        this.options.logger.debug(
          { err: (error as Error).message, key: this.options.key },
          'gray fault key: Consul did not answer; keeping the last fault',
        );
        index = 0;
        await new Promise((resolve) => setTimeout(resolve, retryMs * (0.7 + Math.random() * 0.6)));
        retryMs = Math.min(retryMs * 2, RETRY_MS.max);
      }
    }
  }

  private apply(value: string | undefined): void {
    const parsed = value === undefined ? undefined : parseGrayFault(value);
    if (parsed instanceof Error) {
      this.options.logger.warn({ key: this.options.key, reason: parsed.message }, 'gray fault key holds no fault we know: ignored');
      return this.change(undefined);
    }
    this.change(parsed);
  }

  private change(fault: GrayFault | undefined): void {
    if (JSON.stringify(fault) === JSON.stringify(this.fault)) return;
    const before = this.fault;
    this.fault = fault;
    if (fault) this.options.logger.warn({ fault }, `gray fault on: ${describeGrayFault(fault)}`);
    else if (before) this.options.logger.info({ was: before }, 'gray fault cleared');
    this.options.onChange?.(fault);
  }
}
