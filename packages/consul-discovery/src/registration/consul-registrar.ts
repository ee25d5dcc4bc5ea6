import type { ConsulConnectionOptions, ConsulEndpoint, ResolvedConnection } from '../consul/connection.js';
import { type CheckDefinition, ConsulHttp, type ServiceDefinition } from '../consul/consul-http.js';
import { ConsulError } from '../consul/errors.js';
import { Backoff } from '../internal/backoff.js';
import { isolated } from '../internal/isolate.js';
import { type Logger, silentLogger } from '../internal/logger.js';
import { sleep } from '../internal/sleep.js';

/**
 * Keeps one service instance registered in Consul for as long as it runs:
 * registers it with a TTL check (refreshed every heartbeat) and a gRPC health
 * check Consul runs against it; registers again when Consul has forgotten it
 * (a dev agent's restart), when its address is no longer its own, and on a
 * live agent when the agent holding it dies (then removes the copy on the old
 * one when it is back); backs off, logging once, while Consul is unreachable
 * or refuses its token; and drains: NOT_SERVING, maintenance, one propagation,
 * then stop.
 */
export interface RegistrarOptions {
  /** How to reach Consul: connection options (unset fields come from CONSUL_* variables), a resolved connection, or a client to share. */
  readonly consul?: ConsulConnectionOptions | ResolvedConnection | ConsulHttp;
  readonly service: {
    readonly name: string;
    /**
     * The instance's id. It must not depend on the address: an instance
     * whose address changes keeps its id and moves its registration.
     */
    readonly id: string;
    readonly port: number;
    /**
     * Where Consul and clients reach the instance: fixed, or asked again and
     * again (`addressCheckMs`), so the registration follows an address that
     * changes. Undefined while the instance has no address on its network.
     * A function that throws or rejects is logged once and counts as no
     * address: the registration is retried with backoff, as one that failed.
     */
    readonly address: string | (() => Promise<string | undefined>);
    readonly tags?: readonly string[];
    readonly meta?: Readonly<Record<string, string>>;
  };
  readonly checks?: {
    /** TTL of the heartbeat check; 0 disables it. Default 20000 (the seed's). */
    readonly ttlMs?: number;
    /** How often the TTL is refreshed. Default TTL/4 (the seed: 5 s of 20 s). */
    readonly heartbeatMs?: number;
    /** Consul's gRPC health check of the instance; omit or interval 0 to have none. */
    readonly grpc?: {
      readonly intervalMs: number;
      /**
       * The grpc.health.v1 service name Consul asks about. Default '': the
       * server's overall status, which a stock health server sets. Give the
       * instance's id (and have the server answer SERVING for it) and a check
       * that reaches another process at this address fails instead of passing.
       */
      readonly healthService?: string;
      /** Consul checks over TLS (the agent presents its own certificate to servers that ask for one). */
      readonly tls?: boolean;
      /** The name the instance's certificate carries, when it is not the address. */
      readonly tlsServerName?: string;
    };
    /** Consul removes an instance critical this long. Its minimum, and the default, is one minute. */
    readonly deregisterCriticalAfterMs?: number;
  };
  /** How often the address (and, while refused, the token) is looked at between heartbeats. Default 500. */
  readonly recheckMs?: number;
  readonly logger?: Logger;
  /** Told the new address each time the registration moves. What it throws is caught and logged once. */
  readonly onAddressChange?: (address: string) => void;
}

export type RegistrationState = 'registering' | 'registered' | 'unreachable' | 'refused' | 'lost' | 'draining' | 'stopped';

/** A gRPC server as drain() needs it: @grpc/grpc-js's Server fits. */
export interface DrainableServer {
  tryShutdown(callback: (error?: Error) => void): void;
  forceShutdown(): void;
}

export interface DrainOptions {
  /** Marks the instance NOT_SERVING in its own health service (grpc-health-check's setStatus, say). */
  readonly setNotServing?: () => void;
  /** How long clients need to see the instance leave (blocking query, resolver, balancer). Default 2000. */
  readonly propagationMs?: number;
  /** Shut down after the propagation: calls in flight may finish for `graceMs`, then the rest is cut. */
  readonly server?: DrainableServer;
  readonly graceMs?: number;
  readonly reason?: string;
}

const DEFAULT_TTL_MS = 20_000;
const MIN_DEREGISTER_AFTER_MS = 60_000;

export class ConsulRegistrar {
  readonly instanceId: string;
  private readonly http: ConsulHttp;
  private readonly ownsHttp: boolean;
  private readonly logger: Logger;
  private readonly ttlMs: number;
  private readonly heartbeatMs: number;
  private readonly ttlCheckId: string;
  private readonly grpcCheckId: string;
  private readonly stopController = new AbortController();
  private readonly backoff: Backoff;
  private loop: Promise<void> | undefined;
  /** The registration under way, if any (it never rejects): drain() waits for it, to take out what it leaves in Consul. */
  private registering: Promise<void> | undefined;
  private currentState: RegistrationState = 'stopped';
  /** Where the registration Consul holds points, and which agent holds it. */
  private registeredAddress: string | undefined;
  private registeredOn: ConsulEndpoint | undefined;
  /** Agents that held the registration before we moved off them: it is removed there once they answer. */
  private readonly staleOn = new Map<string, ConsulEndpoint>();
  private refusedToken: string | undefined;
  private unreachableWarned = false;
  /** Set while the address function fails: its first failure is logged, the rest only counted as no address. */
  private addressFailure: string | undefined;
  private readonly onAddressChange: (address: string) => void;

  constructor(private readonly options: RegistrarOptions) {
    this.instanceId = options.service.id;
    this.ownsHttp = !(options.consul instanceof ConsulHttp);
    // Instances start with the agent their id hashes to: with several agents, registrations spread.
    this.http = options.consul instanceof ConsulHttp ? options.consul : new ConsulHttp(options.consul, hashOf(this.instanceId));
    this.logger = options.logger ?? silentLogger;
    this.onAddressChange = isolated(options.onAddressChange ?? (() => undefined), this.logger, "the registrar's onAddressChange", {
      instanceId: this.instanceId,
    });
    this.ttlMs = options.checks?.ttlMs ?? DEFAULT_TTL_MS;
    this.heartbeatMs = options.checks?.heartbeatMs ?? (this.ttlMs > 0 ? Math.floor(this.ttlMs / 4) : 5_000);
    this.ttlCheckId = `${this.instanceId}:ttl`;
    this.grpcCheckId = `${this.instanceId}:grpc`;
    if ((options.checks?.deregisterCriticalAfterMs ?? MIN_DEREGISTER_AFTER_MS) < MIN_DEREGISTER_AFTER_MS) {
      throw new RangeError(`deregisterCriticalAfterMs must be at least ${MIN_DEREGISTER_AFTER_MS} (Consul's minimum)`);
    }
    // Never slower than the heartbeat, so a TTL does not lapse while Consul is merely slow.
    this.backoff = new Backoff({ initialMs: 250, maxMs: this.heartbeatMs, jitter: 0.3 });
  }

  get state(): RegistrationState {
    return this.currentState;
  }

  private get draining(): boolean {
    return this.currentState === 'draining';
  }

  /** The address of the registration Consul holds; undefined until the first one. */
  get address(): string | undefined {
    return this.registeredAddress;
  }

  /** Starts registering in the background; the server serves meanwhile. */
  start(): void {
    if (this.loop) return;
    this.loop = this.run();
  }

  /**
   * Stops heartbeats and deregisters, within `timeoutMs` in all: the request
   * in flight is aborted, and a Consul that does not answer the
   * deregistration is left to drop the instance when its checks fail.
   */
  async stop(timeoutMs = 2_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.stopController.abort();
    await this.loop;
    const holder = this.registeredOn;
    if (holder && this.currentState !== 'stopped') {
      try {
        await this.http.deregisterService(this.instanceId, { endpoint: holder, timeoutMs: Math.max(1, deadline - Date.now()) });
        this.logger.info({ instanceId: this.instanceId }, 'deregistered from Consul');
      } catch (error) {
        this.logger.warn(
          { instanceId: this.instanceId, err: (error as Error).message },
          'deregistration failed; Consul will drop the instance when its checks fail',
        );
      }
    }
    this.transition('stopped');
    if (this.ownsHttp) this.http.close();
  }

  /**
   * Takes the instance out of rotation before it stops: NOT_SERVING in its
   * own health service, Consul maintenance (every health query skips it at
   * once), one propagation for clients to move away, then, with a server,
   * its graceful shutdown, and the deregistration. A registration under way
   * is waited for and put in maintenance too.
   */
  async drain(options: DrainOptions = {}): Promise<void> {
    this.transition('draining');
    options.setNotServing?.();
    // No registration starts from here on (the loop looks at `draining` first),
    // but one under way may yet land: the first one, say, when a process is
    // stopped as it starts. Wait for it (one request's deadline at most), so
    // what it leaves is what maintenance takes out of rotation.
    await this.registering;
    const holder = this.registeredOn;
    if (holder) {
      try {
        await this.http.setMaintenance(this.instanceId, true, options.reason ?? 'draining before shutdown', { endpoint: holder });
      } catch (error) {
        this.logger.warn(
          { instanceId: this.instanceId, err: (error as Error).message },
          'could not set maintenance; deregistering instead',
        );
        await this.http.deregisterService(this.instanceId, { endpoint: holder }).catch(() => undefined);
      }
    }
    await sleep(options.propagationMs ?? 2_000);
    if (options.server) await shutDownGracefully(options.server, options.graceMs ?? 5_000, this.logger);
    await this.stop();
  }

  private definition(address: string): ServiceDefinition {
    const o = this.options;
    const deregisterCriticalAfterMs = o.checks?.deregisterCriticalAfterMs ?? MIN_DEREGISTER_AFTER_MS;
    const checks: CheckDefinition[] = [];
    if (this.ttlMs > 0) {
      // Registered passing: the instance already serves when it registers.
      checks.push({ checkId: this.ttlCheckId, name: 'heartbeat (TTL)', ttlMs: this.ttlMs, status: 'passing', deregisterCriticalAfterMs });
    }
    const grpc = o.checks?.grpc;
    if (grpc && grpc.intervalMs > 0) {
      checks.push({
        checkId: this.grpcCheckId,
        name: 'gRPC health',
        // No "/service" suffix: Consul asks for '', the overall status.
        grpc: `${address}:${o.service.port}${grpc.healthService ? `/${grpc.healthService}` : ''}`,
        grpcUseTls: grpc.tls ?? false,
        ...(grpc.tlsServerName !== undefined && { tlsServerName: grpc.tlsServerName }),
        intervalMs: grpc.intervalMs,
        timeoutMs: Math.max(500, Math.min(2_000, grpc.intervalMs)),
        deregisterCriticalAfterMs,
      });
    }
    return {
      name: o.service.name,
      id: this.instanceId,
      address,
      port: o.service.port,
      tags: o.service.tags ?? [],
      meta: o.service.meta ?? {},
      checks,
    };
  }

  /** The address now; undefined when there is none, or when the caller's address function failed (never a rejection). */
  private async currentAddress(): Promise<string | undefined> {
    const source = this.options.service.address;
    if (typeof source === 'string') return source;
    try {
      const address = await source();
      if (this.addressFailure !== undefined) this.logger.info({ instanceId: this.instanceId }, 'the address function answers again');
      this.addressFailure = undefined;
      return address;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (this.addressFailure === undefined) {
        this.logger.warn(
          { instanceId: this.instanceId, err: message },
          'the address function failed; the registrar goes on and asks it again (not logged again while it fails)',
        );
      }
      this.addressFailure = message;
      return undefined;
    }
  }

  private async run(): Promise<void> {
    const signal = this.stopController.signal;
    this.transition('registering');
    while (!signal.aborted && !this.draining) {
      try {
        const address = await this.currentAddress();
        if (address === undefined) {
          throw new ConsulError(
            'unreachable',
            this.addressFailure !== undefined
              ? 'the address function failed (logged once when it began)'
              : 'no route to Consul: this host has no address on its network',
          );
        }
        // drain() may have begun while the address was asked: it takes no registration that starts after it.
        if (this.draining) break;
        const moved = this.registeredOn !== undefined && this.registeredOn.url !== this.http.endpoint.url;
        if (this.currentState !== 'registered' || address !== this.registeredAddress || moved) {
          const registration = this.register(address, signal);
          this.registering = registration.then(
            () => undefined,
            () => undefined,
          );
          try {
            await registration;
          } finally {
            this.registering = undefined;
          }
        } else {
          if (this.ttlMs > 0) await this.http.passTtl(this.ttlCheckId, { signal, endpoint: this.registeredOn });
          if (this.options.checks?.grpc?.intervalMs) await this.checkReachable(address, signal);
        }
        await this.removeStaleCopies(signal);
        this.backoff.reset();
        await this.sleepUnlessChanged(this.heartbeatMs, signal);
      } catch (error) {
        if (signal.aborted || this.draining) break;
        const e = error instanceof ConsulError ? error : new ConsulError('bad-response', String(error));
        if (e.kind === 'not-found') {
          // Consul forgot us (restart, or reaped after a long freeze): register again at once.
          // A 404 again, while lost, is no forgetting but a Consul (or a proxy before it) that
          // answers 404 to the registration itself: asked at once, it would be asked in a spin.
          const again = this.currentState === 'lost';
          this.transition('lost', e.message);
          if (!again) continue;
        } else if (e.kind === 'acl' || e.kind === 'tls' || e.kind === 'token') {
          // Retrying at once cannot help; a new token (file) or certificate can.
          this.refusedToken = await this.http.connection.token.read().catch(() => undefined);
          this.transition('refused', `${e.message} (token: ${this.http.connection.token.description})`);
        } else {
          this.transition('unreachable', e.message);
        }
        await this.sleepUnlessChanged(this.backoff.nextDelayMs(), signal);
      }
    }
  }

  private async register(address: string, signal: AbortSignal): Promise<void> {
    const previousAddress = this.registeredAddress;
    const previousAgent = this.registeredOn;
    const agent = this.http.endpoint;
    if (previousAddress !== undefined && previousAddress !== address) this.http.resetConnections();
    // Same id on the same agent: Consul replaces the old registration (and its checks) in place.
    try {
      await this.http.registerService(this.definition(address), { signal, endpoint: agent });
    } catch (error) {
      // No answer is not no registration: an agent without a leader holds the
      // request past our deadline and may take it after (measured: a copy
      // appeared on such an agent after a quorum loss, passing, never removed).
      // Treat it as holding a copy until it says it does not.
      if (error instanceof ConsulError && error.kind === 'unreachable' && agent.url !== this.registeredOn?.url) {
        this.staleOn.set(agent.url, agent);
      }
      throw error;
    }
    // Consul holds the registration from here: recorded before anything else
    // can fail, so drain() and stop() find it.
    this.registeredAddress = address;
    this.registeredOn = agent;
    this.staleOn.delete(agent.url);
    if (previousAgent && previousAgent.url !== agent.url) {
      this.staleOn.set(previousAgent.url, previousAgent);
      this.logger.warn(
        { instanceId: this.instanceId, from: previousAgent.url, to: agent.url },
        'Consul agent unreachable: registered on another agent',
      );
    }
    if (previousAddress !== undefined && previousAddress !== address) {
      const port = this.options.service.port;
      this.logger.warn(
        { instanceId: this.instanceId, from: `${previousAddress}:${port}`, to: `${address}:${port}` },
        'advertised address changed: registration moved to the new address',
      );
      this.onAddressChange(address);
    }
    // A re-registration keeps each existing check's status (Consul restores it
    // from a snapshot, ignoring the definition's): a TTL that lapsed while we
    // were cut off would stay critical until the next heartbeat. We are alive now.
    if (this.ttlMs > 0) await this.http.passTtl(this.ttlCheckId, { signal, endpoint: agent });
    // A registration also keeps the id's maintenance flag, which a previous
    // life of this instance (same id: same host and port) may have left: a
    // drain whose maintenance the agent kept in its data directory while the
    // deregistration that should follow never reached it (the agent stopped
    // meanwhile; found when a whole datacenter was stopped and started
    // again). The instance would stay out of rotation for good.
    await this.http.setMaintenance(this.instanceId, false, 'registered again', { signal, endpoint: agent });
    this.transition('registered');
  }

  /** A copy left on an agent we moved off would be served again when that agent returns: remove it. */
  private async removeStaleCopies(signal: AbortSignal): Promise<void> {
    for (const [url, endpoint] of this.staleOn) {
      try {
        await this.http.deregisterService(this.instanceId, { signal, endpoint, timeoutMs: 1_000 });
        this.staleOn.delete(url);
        this.logger.info({ instanceId: this.instanceId, agent: url }, 'removed the registration left on an agent that is back');
      } catch (error) {
        if (error instanceof ConsulError && error.kind === 'not-found') this.staleOn.delete(url);
        // Otherwise that agent is still away: try again next heartbeat.
      }
    }
  }

  /**
   * Consul's gRPC check of our address failing while we serve means Consul
   * (and so clients) cannot reach us there. When our address changed the
   * next look moves the registration; otherwise it is worth one warning.
   */
  private async checkReachable(address: string, signal: AbortSignal): Promise<void> {
    const status = await this.http.checkStatus(this.grpcCheckId, { signal, endpoint: this.registeredOn });
    if (status === undefined) throw new ConsulError('not-found', `Consul has no check ${this.grpcCheckId}`);
    const unreachable = status === 'critical';
    if (unreachable && !this.unreachableWarned) {
      this.logger.warn(
        { instanceId: this.instanceId, address: `${address}:${this.options.service.port}` },
        "Consul's gRPC check of this instance fails while it serves: Consul cannot reach it at its advertised address",
      );
    } else if (!unreachable && this.unreachableWarned) {
      this.logger.info({ instanceId: this.instanceId }, "Consul's gRPC check of this instance passes again");
    }
    this.unreachableWarned = unreachable;
  }

  /** Sleeps `ms`, but wakes at once when the address changes, or, while refused, when the token does. */
  private async sleepUnlessChanged(ms: number, signal: AbortSignal): Promise<void> {
    const step = this.options.recheckMs ?? 500;
    const until = Date.now() + ms;
    while (!signal.aborted && Date.now() < until) {
      await sleep(Math.min(step, until - Date.now()), signal);
      if (signal.aborted) return;
      const address = await this.currentAddress();
      if (address !== undefined && this.registeredAddress !== undefined && address !== this.registeredAddress) return;
      if (this.currentState === 'refused') {
        const token = await this.http.connection.token.read().catch(() => this.refusedToken);
        if (token !== this.refusedToken) return;
      }
    }
  }

  /** Logs each change of state once, not once per attempt. */
  private transition(next: RegistrationState, reason?: string): void {
    if (next === this.currentState) return;
    // Once draining, only stopping follows: a heartbeat finishing late must not put it back in rotation.
    if (this.currentState === 'draining' && next !== 'stopped') return;
    const previous = this.currentState;
    this.currentState = next;
    const fields = { instanceId: this.instanceId, from: previous, to: next, ...(reason !== undefined && { reason }) };
    if (next === 'unreachable' || next === 'lost' || next === 'refused') this.logger.warn(fields, `registration ${next}`);
    else this.logger.info(fields, `registration ${next}`);
  }
}

/** A small stable number for a string (FNV-1a), to pick an agent by instance id. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** tryShutdown (GOAWAY, in-flight calls finish), then forceShutdown after `graceMs`. */
export function shutDownGracefully(server: DrainableServer, graceMs: number, logger: Logger = silentLogger): Promise<void> {
  return new Promise((resolve) => {
    const forced = setTimeout(() => {
      logger.warn({ graceMs }, 'drain deadline passed: cutting remaining calls');
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(forced);
      resolve();
    });
  });
}
