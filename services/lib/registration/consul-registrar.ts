import type { Logger } from 'pino';
import { sleep } from '../abortable-sleep.js';
import { Backoff } from '../backoff.js';
import { type CheckDefinition, type ConsulClient, describeError, isNotFound, type ServiceDefinition } from '../consul/consul-client.js';

/**
 * Keeps one service instance registered in Consul for as long as it runs:
 * registers it with a TTL check (refreshed every heartbeat) and, optionally,
 * a Consul-driven gRPC health check; re-registers when Consul has forgotten it
 * (any restart of a dev agent); retries with capped, jittered backoff while
 * Consul is unreachable; deregisters on stop.
 */
export interface RegistrationOptions {
  readonly serviceName: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  /** TTL of the heartbeat check; 0 disables it. */
  readonly ttlMs: number;
  /** How often the TTL is refreshed; the seed's design is TTL/4, ours defaults to TTL/3. */
  readonly heartbeatMs: number;
  /** Interval of Consul's own gRPC health check against the instance; 0 disables it. */
  readonly grpcCheckIntervalMs: number;
  /** The grpc.health.v1 service name the gRPC check asks about. */
  readonly grpcHealthService: string;
  /** Consul's minimum is one minute. */
  readonly deregisterCriticalAfterMs: number;
}

export type RegistrationState = 'registering' | 'registered' | 'consul-unreachable' | 'lost' | 'stopped';

export function instanceIdOf(serviceName: string, address: string, port: number): string {
  return `${serviceName}-${address}-${port}`;
}

export class ConsulRegistrar {
  readonly instanceId: string;
  private readonly ttlCheckId: string;
  private readonly stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private currentState: RegistrationState = 'stopped';
  private readonly backoff = new Backoff({ initialMs: 250, maxMs: 10_000, jitter: 0.3 });

  constructor(
    private readonly consul: ConsulClient,
    private readonly options: RegistrationOptions,
    private readonly logger: Logger,
  ) {
    this.instanceId = instanceIdOf(options.serviceName, options.address, options.port);
    this.ttlCheckId = `${this.instanceId}:ttl`;
  }

  get state(): RegistrationState {
    return this.currentState;
  }

  /** Starts registering in the background; the server serves meanwhile. */
  start(): void {
    if (this.loop) return;
    this.loop = this.run();
  }

  /** Stops heartbeats and deregisters (best effort, bounded by `timeoutMs`). */
  async stop(timeoutMs = 2_000): Promise<void> {
    this.stopController.abort();
    await this.loop;
    if (this.currentState === 'registered' || this.currentState === 'lost') {
      try {
        await this.consul.deregister(this.instanceId, timeoutMs);
        this.logger.info({ instanceId: this.instanceId }, 'deregistered from Consul');
      } catch (error) {
        this.logger.warn(
          { instanceId: this.instanceId, err: describeError(error) },
          'deregistration failed; Consul will drop the instance when its checks fail',
        );
      }
    }
    this.transition('stopped');
  }

  private definition(): ServiceDefinition {
    const o = this.options;
    const checks: CheckDefinition[] = [];
    if (o.ttlMs > 0) {
      // Registered passing: the server already serves when it registers.
      checks.push({
        checkId: this.ttlCheckId,
        name: 'heartbeat (TTL)',
        ttlMs: o.ttlMs,
        status: 'passing',
        deregisterCriticalAfterMs: o.deregisterCriticalAfterMs,
      });
    }
    if (o.grpcCheckIntervalMs > 0) {
      checks.push({
        checkId: `${this.instanceId}:grpc`,
        name: 'gRPC health',
        grpc: `${o.address}:${o.port}/${o.grpcHealthService}`,
        intervalMs: o.grpcCheckIntervalMs,
        timeoutMs: Math.max(500, Math.min(2_000, o.grpcCheckIntervalMs)),
        deregisterCriticalAfterMs: o.deregisterCriticalAfterMs,
      });
    }
    return { name: o.serviceName, id: this.instanceId, address: o.address, port: o.port, tags: o.tags, meta: o.meta, checks };
  }

  private async run(): Promise<void> {
    const signal = this.stopController.signal;
    this.transition('registering');
    while (!signal.aborted) {
      const needsRegistration = this.currentState !== 'registered';
      try {
        if (needsRegistration) {
          await this.consul.register(this.definition());
          this.transition('registered');
        } else if (this.options.ttlMs > 0) {
          await this.consul.passTtl(this.ttlCheckId);
        }
        this.backoff.reset();
        await sleep(this.options.heartbeatMs, signal);
      } catch (error) {
        if (signal.aborted) break;
        if (isNotFound(error)) {
          // Consul forgot us (restart, or reaped after a long freeze): register again now.
          this.transition('lost', describeError(error));
          continue;
        }
        // Unreachable or failing: retry with backoff, never slower than the
        // heartbeat so the TTL does not lapse while Consul is merely slow. The
        // next success registers again, which is idempotent in Consul.
        this.transition('consul-unreachable', describeError(error));
        const delay = Math.min(this.backoff.nextDelayMs(), needsRegistration ? Number.POSITIVE_INFINITY : this.options.heartbeatMs);
        await sleep(delay, signal);
      }
    }
  }

  /** Logs each change of state once, not once per attempt. */
  private transition(next: RegistrationState, reason?: string): void {
    if (next === this.currentState) return;
    const previous = this.currentState;
    this.currentState = next;
    const fields = { instanceId: this.instanceId, from: previous, to: next, ...(reason !== undefined && { reason }) };
    if (next === 'consul-unreachable' || next === 'lost') this.logger.warn(fields, `registration ${next}`);
    else this.logger.info(fields, `registration ${next}`);
  }
}
