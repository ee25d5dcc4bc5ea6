import type { Logger } from 'pino';
import { sleep } from '../abortable-sleep.js';
import { Backoff } from '../backoff.js';
import { type CheckDefinition, type ConsulClient, describeError, isNotFound, type ServiceDefinition } from '../consul/consul-client.js';

/**
 * Keeps one service instance registered in Consul for as long as it runs:
 * registers it with a TTL check (refreshed every heartbeat) and, optionally,
 * a Consul-driven gRPC health check; re-registers when Consul has forgotten it
 * (any restart of a dev agent) and when the address it advertised is no
 * longer its own; retries with capped, jittered backoff while Consul is
 * unreachable; deregisters on stop.
 */
export interface RegistrationOptions {
  readonly serviceName: string;
  /**
   * The instance's id in Consul. It must not depend on the address: an
   * instance whose address changes keeps its id and moves its registration.
   */
  readonly instanceId: string;
  /**
   * Where Consul and clients reach the instance, asked again at every
   * heartbeat: a container reconnected to its network, or a host whose
   * interface changed, gets a new address, and the registration follows it.
   * Undefined while the instance has no route to Consul (its network is gone).
   */
  readonly address: () => Promise<string | undefined>;
  readonly port: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  /** TTL of the heartbeat check; 0 disables it. */
  readonly ttlMs: number;
  /** How often the TTL is refreshed; the seed's design (and our default) is TTL/4. */
  readonly heartbeatMs: number;
  /** Interval of Consul's own gRPC health check against the instance; 0 disables it. */
  readonly grpcCheckIntervalMs: number;
  /**
   * The grpc.health.v1 service name Consul's gRPC check asks about. Use a
   * name only this instance answers SERVING for (its id): a check of an
   * address where another process now listens then fails instead of passing
   * for the wrong process.
   */
  readonly grpcHealthService: string;
  /** Consul's minimum is one minute. */
  readonly deregisterCriticalAfterMs: number;
  /**
   * How often the address is looked at between heartbeats (a local route
   * lookup, no packet): a new address is registered within this, not within
   * a heartbeat or a backoff.
   */
  readonly addressCheckMs?: number;
}

export type RegistrationState = 'registering' | 'registered' | 'consul-unreachable' | 'lost' | 'stopped';

/** Consul's id for an instance: service, host name and port, none of which changes with the address. */
export function instanceIdOf(serviceName: string, host: string, port: number): string {
  return `${serviceName}-${host}-${port}`;
}

export class ConsulRegistrar {
  readonly instanceId: string;
  private readonly ttlCheckId: string;
  private readonly grpcCheckId: string;
  private readonly stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private currentState: RegistrationState = 'stopped';
  /** The address of the registration Consul holds; undefined until the first one. */
  private registeredAddress: string | undefined;
  private unreachableWarned = false;
  private readonly backoff: Backoff;

  constructor(
    private readonly consul: ConsulClient,
    private readonly options: RegistrationOptions,
    private readonly logger: Logger,
    /** Told the new address each time the registration moves. */
    private readonly onAddressChange: (address: string) => void = () => undefined,
  ) {
    this.instanceId = options.instanceId;
    this.ttlCheckId = `${this.instanceId}:ttl`;
    this.grpcCheckId = `${this.instanceId}:grpc`;
    // Never slower than the heartbeat, so a TTL does not lapse while Consul is merely slow.
    this.backoff = new Backoff({ initialMs: 250, maxMs: options.heartbeatMs, jitter: 0.3 });
  }

  get state(): RegistrationState {
    return this.currentState;
  }

  get address(): string | undefined {
    return this.registeredAddress;
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

  private definition(address: string): ServiceDefinition {
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
        checkId: this.grpcCheckId,
        name: 'gRPC health',
        grpc: `${address}:${o.port}/${o.grpcHealthService}`,
        intervalMs: o.grpcCheckIntervalMs,
        timeoutMs: Math.max(500, Math.min(2_000, o.grpcCheckIntervalMs)),
        deregisterCriticalAfterMs: o.deregisterCriticalAfterMs,
      });
    }
    return { name: o.serviceName, id: this.instanceId, address, port: o.port, tags: o.tags, meta: o.meta, checks };
  }

  private async run(): Promise<void> {
    const signal = this.stopController.signal;
    this.transition('registering');
    while (!signal.aborted) {
      try {
        const address = await this.options.address();
        if (address === undefined) throw new Error('no route to Consul: this host has no address on its network');
        if (this.currentState !== 'registered' || address !== this.registeredAddress) {
          await this.register(address);
        } else {
          if (this.options.ttlMs > 0) await this.consul.passTtl(this.ttlCheckId);
          if (this.options.grpcCheckIntervalMs > 0) await this.checkReachable(address);
        }
        this.backoff.reset();
        await this.sleepUnlessMoved(this.options.heartbeatMs, signal);
      } catch (error) {
        if (signal.aborted) break;
        if (isNotFound(error)) {
          // Consul forgot us (restart, or reaped after a long freeze): register again now.
          this.transition('lost', describeError(error));
          continue;
        }
        // Unreachable or failing: retry with backoff. The next success
        // registers again, which is idempotent in Consul.
        this.transition('consul-unreachable', describeError(error));
        await this.sleepUnlessMoved(this.backoff.nextDelayMs(), signal);
      }
    }
  }

  /** Sleeps `ms`, but wakes as soon as the address differs from the registered one. */
  private async sleepUnlessMoved(ms: number, signal: AbortSignal): Promise<void> {
    const step = this.options.addressCheckMs ?? 500;
    const until = Date.now() + ms;
    while (!signal.aborted && Date.now() < until) {
      await sleep(Math.min(step, until - Date.now()), signal);
      const address = await this.options.address();
      if (address !== undefined && this.registeredAddress !== undefined && address !== this.registeredAddress) return;
    }
  }

  private async register(address: string): Promise<void> {
    const previous = this.registeredAddress;
    if (previous !== undefined && previous !== address) this.consul.resetConnections();
    // Same id: Consul replaces the old registration (and its checks) in place.
    await this.consul.register(this.definition(address));
    // A re-registration keeps each existing check's status (Consul restores it
    // from a snapshot, ignoring the definition's): a TTL that lapsed while we
    // were cut off would stay critical until the next heartbeat. We are alive now.
    if (this.options.ttlMs > 0) await this.consul.passTtl(this.ttlCheckId);
    this.registeredAddress = address;
    if (previous !== undefined && previous !== address) {
      this.logger.warn(
        { instanceId: this.instanceId, from: `${previous}:${this.options.port}`, to: `${address}:${this.options.port}` },
        'advertised address changed: registration moved to the new address',
      );
      this.onAddressChange(address);
    }
    this.transition('registered');
  }

  /**
   * Consul's gRPC check of our address failing while we serve means Consul
   * (and so clients) cannot reach us there. When our address changed the
   * next heartbeat moves the registration; otherwise it is worth a warning.
   */
  private async checkReachable(address: string): Promise<void> {
    const status = await this.consul.checkStatus(this.grpcCheckId);
    if (status === undefined) throw Object.assign(new Error(`Consul has no check ${this.grpcCheckId}`), { statusCode: 404 });
    const unreachable = status === 'critical';
    if (unreachable && !this.unreachableWarned) {
      this.logger.warn(
        { instanceId: this.instanceId, check: this.options.grpcHealthService, address: `${address}:${this.options.port}` },
        "Consul's gRPC check of this instance fails while it serves: Consul cannot reach it at its advertised address",
      );
    } else if (!unreachable && this.unreachableWarned) {
      this.logger.info({ instanceId: this.instanceId }, "Consul's gRPC check of this instance passes again");
    }
    this.unreachableWarned = unreachable;
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
