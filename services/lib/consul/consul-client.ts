import { EventEmitter } from 'node:events';
import Consul from 'consul';

/**
 * The one place that talks to Consul's HTTP API, through the npm `consul`
 * client. Registration and discovery depend on this small surface only.
 */

/** One passing (or not) instance as Consul's health endpoint reports it. */
export interface ServiceInstance {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
}

export interface HealthQuery {
  readonly service: string;
  readonly tag?: string;
  readonly dc?: string;
  /** Blocking query: return when the index moves past this one, or after `waitMs`. */
  readonly index?: number;
  readonly waitMs?: number;
  readonly signal?: AbortSignal;
}

export interface HealthResult {
  readonly instances: ServiceInstance[];
  /** X-Consul-Index of the answer; 0 when Consul sent none. */
  readonly index: number;
}

export interface CheckDefinition {
  readonly checkId: string;
  readonly name: string;
  readonly ttlMs?: number;
  /** host:port/service: Consul asks grpc.health.v1 at host:port about `service`. */
  readonly grpc?: string;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly status?: 'passing' | 'critical';
  readonly deregisterCriticalAfterMs: number;
}

export interface ServiceDefinition {
  readonly name: string;
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  readonly checks: readonly CheckDefinition[];
}

export interface ConsulAddress {
  readonly host: string;
  readonly port: number;
}

// Requests other than blocking queries never need long: a slow answer is as
// bad as none for a heartbeat, and the caller retries.
const REQUEST_TIMEOUT_MS = 5_000;

export function parseConsulAddress(value: string): ConsulAddress {
  const withoutScheme = value.replace(/^https?:\/\//, '');
  const match = /^([^:/\s]+|\[[^\]]+\]):(\d{1,5})$/.exec(withoutScheme);
  const port = Number(match?.[2]);
  if (!match?.[1] || !(port >= 1 && port <= 65535)) {
    throw new Error(`invalid Consul address ${JSON.stringify(value)}: expected host:port`);
  }
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

const ms = (value: number): string => `${Math.round(value)}ms`;

/** Consul answers 404 for a check or service it does not know, e.g. after a dev agent restarted. */
export function isNotFound(error: unknown): boolean {
  const status = (error as { statusCode?: number } | null)?.statusCode;
  if (status === 404) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /unknown (check|service)|does not have associated ttl|not found/i.test(message);
}

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code;
  return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}

export class ConsulClient {
  private consul: Consul;

  constructor(readonly address: ConsulAddress) {
    this.consul = new Consul({ host: address.host, port: address.port });
  }

  /**
   * Drops the pooled keep-alive connections. After this host's address
   * changed they are bound to an address it no longer has, and a request on
   * one would hang until its timeout instead of going out at once.
   */
  resetConnections(): void {
    this.consul.destroy();
    this.consul = new Consul({ host: this.address.host, port: this.address.port });
  }

  async register(service: ServiceDefinition): Promise<void> {
    await this.consul.agent.service.register({
      name: service.name,
      id: service.id,
      address: service.address,
      port: service.port,
      tags: [...service.tags],
      meta: { ...service.meta },
      checks: service.checks.map((check) => ({
        checkid: check.checkId,
        name: check.name,
        ...(check.ttlMs !== undefined && { ttl: ms(check.ttlMs) }),
        ...(check.grpc !== undefined && { grpc: check.grpc, grpcusetls: false }),
        ...(check.intervalMs !== undefined && { interval: ms(check.intervalMs) }),
        timeout: ms(check.timeoutMs ?? REQUEST_TIMEOUT_MS),
        ...(check.status !== undefined && { status: check.status }),
        deregistercriticalserviceafter: ms(check.deregisterCriticalAfterMs),
      })),
      timeout: REQUEST_TIMEOUT_MS,
      // The client's typings lack the per-request timeout it supports.
    } as unknown as { name: string });
  }

  async deregister(serviceId: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<void> {
    await this.consul.agent.service.deregister({ id: serviceId, timeout: timeoutMs } as { id: string });
  }

  /** The status Consul's local agent has for one check, or undefined when it has no such check. */
  async checkStatus(checkId: string): Promise<string | undefined> {
    const checks = (await this.consul.agent.check.list({
      filter: `CheckID == ${JSON.stringify(checkId)}`,
      timeout: REQUEST_TIMEOUT_MS,
    } as unknown as Parameters<Consul['agent']['check']['list']>[0])) as Record<string, { Status: string }>;
    return Object.values(checks)[0]?.Status;
  }

  /** Resets a TTL check's clock. Rejects with a 404 (see isNotFound) when Consul lost the check. */
  async passTtl(checkId: string): Promise<void> {
    await this.consul.agent.check.pass({ id: checkId, timeout: REQUEST_TIMEOUT_MS } as { id: string });
  }

  /** Instances whose every check passes; a blocking query when `index` is given. */
  async passingInstances(query: HealthQuery): Promise<HealthResult> {
    // The npm client returns the raw response (for X-Consul-Index) and can
    // abort a request only through an EventEmitter "ctx" carrying these flags.
    const ctx = Object.assign(new EventEmitter(), { includeResponse: true });
    const onAbort = (): void => {
      ctx.emit('cancel');
    };
    query.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const blocking = query.index !== undefined && query.waitMs !== undefined;
      const options = {
        service: query.service,
        passing: true,
        ...(query.tag !== undefined && { tag: query.tag }),
        ...(query.dc !== undefined && { dc: query.dc }),
        ...(blocking && { index: String(query.index), wait: ms(query.waitMs ?? 0) }),
        // A blocking query may legitimately take wait + wait/16 (Consul's jitter).
        timeout: blocking ? (query.waitMs ?? 0) * 1.1 + REQUEST_TIMEOUT_MS : REQUEST_TIMEOUT_MS,
        ctx,
      };
      const [response, body] = (await this.consul.health.service(
        options as unknown as Parameters<Consul['health']['service']>[0],
      )) as unknown as [{ headers: Record<string, string | undefined> }, HealthEntry[]];
      const index = Number(response.headers['x-consul-index'] ?? 0);
      return {
        index: Number.isFinite(index) ? index : 0,
        instances: body.map(toInstance),
      };
    } finally {
      query.signal?.removeEventListener('abort', onAbort);
    }
  }
}

interface HealthEntry {
  Node: { Address: string };
  Service: { ID: string; Address: string; Port: number; Tags: string[] | null; Meta: Record<string, string> | null };
}

function toInstance(entry: HealthEntry): ServiceInstance {
  return {
    id: entry.Service.ID,
    // An empty service address means "the node's address" in Consul.
    address: entry.Service.Address || entry.Node.Address,
    port: entry.Service.Port,
    tags: entry.Service.Tags ?? [],
    meta: entry.Service.Meta ?? {},
  };
}
