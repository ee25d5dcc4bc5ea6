import { EventEmitter } from 'node:events';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import Consul from 'consul';
import { consulDuration } from '../internal/duration.js';
import { type ConsulConnectionOptions, type ConsulEndpoint, type ResolvedConnection, resolveConnection } from './connection.js';
import { type ConsulAnswer, type ConsulGetRequest, consulGet } from './consul-get.js';
import { ConsulError, toConsulError } from './errors.js';

/**
 * The one place that talks to Consul's HTTP API: one keep-alive (and TLS)
 * connection pool per agent; the token read at every request; every request
 * abortable and bounded. With several agents, a request that finds the
 * current agent unreachable makes the next one current for the following
 * requests (the caller retries).
 *
 * Writes and plain reads go through the npm `consul` client's documented
 * API. The three reads that need more (health queries, KV reads, key
 * listings) are GETs of our own (consulGet) on the same pool: a blocking
 * query needs the X-Consul-Index header, which the client's documented API
 * does not return (only an undocumented `ctx.includeResponse`, absent from
 * its typings, does), its health.service() cannot send `cached`, `max_stale`
 * or Cache-Control, and a missing key or prefix (404) is an answer, not an
 * error. One small GET for the three is simpler than bending the client
 * for two and writing our own for the third.
 */

/** One instance as Consul's health endpoint reports it. */
export interface ServiceInstance {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  /** The Consul node (agent) the instance is registered with. */
  readonly node: string;
  /** The datacenter of that node, as Consul answers it (absent only from a Consul that does not say). */
  readonly datacenter?: string;
  /** The worst of its checks. */
  readonly status: 'passing' | 'warning' | 'critical';
  /** Consul's `Service.Weights` as answered, unchecked (`{Passing, Warning}` from a sane Consul); read with `weights=consul`. */
  readonly weights?: unknown;
}

export type Consistency = 'default' | 'stale' | 'consistent';

/** A query of /v1/health/service/<service>: instances whose every check passes. */
export interface HealthQuery {
  readonly service: string;
  /** Only instances whose every check passes (what a client should call). Default true. */
  readonly passingOnly?: boolean;
  /** Every tag must be present (Consul ANDs repeated tag parameters). */
  readonly tags?: readonly string[];
  readonly dc?: string;
  /** Sort by round-trip time from this node; "_agent" is the agent asked. */
  readonly near?: string;
  /** A Consul filter expression, e.g. `Service.Meta.version == "2"`. */
  readonly filter?: string;
  readonly consistency?: Consistency;
  /** With stale reads: refuse an answer staler than this. */
  readonly maxStaleMs?: number;
  /** Served from the agent's cache; with Cache-Control max-age / stale-if-error. */
  readonly cached?: { readonly maxAgeMs?: number; readonly staleIfErrorMs?: number };
  /** A blocking query: returns when the index moves past this one, or after `waitMs`. */
  readonly index?: number;
  readonly waitMs?: number;
}

export interface HealthResult {
  readonly instances: ServiceInstance[];
  /** X-Consul-Index of the answer; 0 when Consul sent none. */
  readonly index: number;
  /** The agent that answered. */
  readonly endpoint: string;
}

/** An execution of a prepared query: its name or id, and the options execute takes. */
export interface PreparedQueryExecution {
  readonly name: string;
  readonly dc?: string;
  readonly near?: string;
  readonly limit?: number;
  readonly cached?: HealthQuery['cached'];
}

export interface PreparedQueryResult extends HealthResult {
  /** The datacenter that served the answer. */
  readonly datacenter: string;
  /** How many datacenters the query failed over to (0: its own served it). */
  readonly failovers: number;
}

interface PreparedQueryAnswer {
  Nodes: HealthEntry[];
  Datacenter: string;
  Failovers: number;
}

/** The Cache-Control header of a cached read: max-age, stale-if-error (Consul takes whole seconds). */
function cacheControl(cached: HealthQuery['cached']): { headers?: Record<string, string> } {
  const directives = [
    cached?.maxAgeMs !== undefined && `max-age=${Math.round(cached.maxAgeMs / 1_000)}`,
    cached?.staleIfErrorMs !== undefined && `stale-if-error=${Math.round(cached.staleIfErrorMs / 1_000)}`,
  ].filter(Boolean);
  return directives.length > 0 ? { headers: { 'cache-control': directives.join(', ') } } : {};
}

export interface CheckDefinition {
  readonly checkId: string;
  readonly name: string;
  readonly ttlMs?: number;
  /** host:port/service: Consul asks grpc.health.v1 at host:port about `service`; host:port alone: about '', the overall status. */
  readonly grpc?: string;
  /** Consul's gRPC check over TLS (the agent presents its own certificate when it has one). */
  readonly grpcUseTls?: boolean;
  readonly tlsServerName?: string;
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

export interface RequestOptions {
  readonly signal?: AbortSignal;
  /** Ask this agent, and only it (a registration lives on the agent that took it). */
  readonly endpoint?: ConsulEndpoint;
  readonly timeoutMs?: number;
}

interface HealthEntry {
  Node: { Node: string; Address: string; Datacenter?: string };
  Service: { ID: string; Address: string; Port: number; Tags: string[] | null; Meta: Record<string, string> | null; Weights?: unknown };
  Checks?: { Status: string }[];
}

const SEVERITY = ['passing', 'warning', 'critical'] as const;

interface AgentClient {
  readonly endpoint: ConsulEndpoint;
  readonly consul: Consul;
  readonly agent: HttpAgent;
  /** Requests on this client now: a pool that resetConnections() retired is closed when it reaches 0. */
  inFlight: number;
}

/** A KV read: the value (undefined when the key does not exist) and the index to block on next. */
export interface KvResult {
  readonly value: string | undefined;
  readonly index: number;
}

export class ConsulHttp {
  readonly connection: ResolvedConnection;
  private clients: AgentClient[];
  /** Pools resetConnections() replaced while they still carried requests; each is closed when its last ends. */
  private readonly retired = new Set<AgentClient>();
  private current = 0;

  /**
   * `startAt`: which agent to ask first (taken modulo their number): processes
   * that register with different agents spread their registrations, so one
   * agent's death does not take every instance with it.
   */
  constructor(connection: ResolvedConnection | ConsulConnectionOptions = {}, startAt = 0) {
    this.connection = 'endpoints' in connection ? connection : resolveConnection(connection);
    this.clients = this.connection.endpoints.map((endpoint) => this.clientFor(endpoint));
    this.current = Math.abs(Math.trunc(startAt)) % this.clients.length;
  }

  /** The agent requests go to now. */
  get endpoint(): ConsulEndpoint {
    return (this.clients[this.current] as AgentClient).endpoint;
  }

  get endpoints(): readonly ConsulEndpoint[] {
    return this.connection.endpoints;
  }

  /** Instances of a service whose every check passes (or all, with passingOnly false). */
  async healthService(query: HealthQuery, options: RequestOptions = {}): Promise<HealthResult> {
    // Index 0 (or none) asks without blocking: the first query of a watch, and the one after an error.
    const blocking = query.index !== undefined && query.index > 0 && query.waitMs !== undefined;
    const q: Record<string, string | readonly string[]> = query.passingOnly === false ? {} : { passing: 'true' };
    if (query.tags && query.tags.length > 0) q.tag = query.tags;
    if (query.dc) q.dc = query.dc;
    if (query.near) q.near = query.near;
    if (query.filter) q.filter = query.filter;
    if (query.consistency === 'consistent') q.consistent = '';
    if (query.consistency === 'stale' || query.maxStaleMs !== undefined) q.stale = '';
    if (query.maxStaleMs !== undefined) q.max_stale = consulDuration(query.maxStaleMs);
    if (query.cached) q.cached = '';
    if (blocking) {
      q.index = String(query.index);
      q.wait = consulDuration(query.waitMs ?? 0);
    }
    const { answer, endpoint } = await this.get(
      options,
      { path: `/health/service/${encodeURIComponent(query.service)}`, query: q, ...cacheControl(query.cached) },
      blocking ? query.waitMs : undefined,
    );
    if (!Array.isArray(answer.body))
      throw new ConsulError('bad-response', `Consul at ${endpoint.url} answered a health query with a body that is not a list`);
    return { index: answer.index, instances: (answer.body as HealthEntry[]).map(toInstance), endpoint: endpoint.url };
  }

  /**
   * Executes a prepared query (`/v1/query/<name>/execute`): never blocking
   * (Consul's execute has no blocking form), served from the agent's cache
   * with `cached`. The answer says which datacenter served it and how many
   * it failed over.
   */
  async executeQuery(query: PreparedQueryExecution, options: RequestOptions = {}): Promise<PreparedQueryResult> {
    const q: Record<string, string> = {};
    if (query.dc) q.dc = query.dc;
    if (query.near) q.near = query.near;
    if (query.limit !== undefined) q.limit = String(query.limit);
    if (query.cached) q.cached = '';
    const { answer, endpoint } = await this.get(options, {
      path: `/query/${encodeURIComponent(query.name)}/execute`,
      query: q,
      ...cacheControl(query.cached),
    });
    const body = answer.body as Partial<PreparedQueryAnswer> | undefined;
    if (!body || !Array.isArray(body.Nodes))
      throw new ConsulError(
        'bad-response',
        `Consul at ${endpoint.url} answered prepared query ${query.name} with a body that has no Nodes list`,
      );
    return {
      index: answer.index,
      instances: body.Nodes.map(toInstance),
      datacenter: typeof body.Datacenter === 'string' ? body.Datacenter : '',
      failovers: typeof body.Failovers === 'number' ? body.Failovers : 0,
      endpoint: endpoint.url,
    };
  }

  /**
   * Reads one KV key; with `index` and `waitMs`, a blocking query that returns
   * when the key changes (or is created or deleted) or after `waitMs`.
   */
  async kvGet(key: string, query: { index?: number; waitMs?: number } = {}, options: RequestOptions = {}): Promise<KvResult> {
    const blocking = query.index !== undefined && query.index > 0 && query.waitMs !== undefined;
    const { answer } = await this.get(
      options,
      {
        path: `/kv/${encodeURIComponent(key)}`,
        ...(blocking && { query: { index: String(query.index), wait: consulDuration(query.waitMs ?? 0) } }),
        // A missing key is an answer, with the index to block on until it exists.
        answers: [404],
      },
      blocking ? query.waitMs : undefined,
    );
    const entry = Array.isArray(answer.body) ? (answer.body[0] as { Value?: string | null } | undefined) : undefined;
    const value = typeof entry?.Value === 'string' ? Buffer.from(entry.Value, 'base64').toString('utf8') : undefined;
    return { value, index: answer.index };
  }

  /**
   * The keys under `prefix` (Consul's `?keys` listing), sorted; none is an
   * empty list, not an error (Consul answers a prefix without keys with 404).
   */
  async kvKeys(prefix: string, options: RequestOptions = {}): Promise<string[]> {
    const { answer } = await this.get(options, {
      path: `/kv/${encodeURIComponent(prefix)}`,
      query: { keys: 'true' },
      answers: [404],
    });
    if (answer.status === 404) return [];
    if (!Array.isArray(answer.body) || !answer.body.every((key) => typeof key === 'string'))
      throw new ConsulError('bad-response', `Consul answered a key listing of ${prefix} with a body that is not a list of keys`);
    return [...(answer.body as string[])].sort();
  }

  async kvPut(key: string, value: string, options: RequestOptions = {}): Promise<void> {
    await this.call(options, ({ consul }, request) =>
      // The options-object overload (node-consul's typings lack token, ctx and timeout on it).
      consul.kv.set({ key, value, ...request.common } as unknown as { key: string; value: string }),
    );
  }

  async kvDelete(key: string, options: RequestOptions = {}): Promise<void> {
    await this.call(options, ({ consul }, request) => consul.kv.del({ key, ...request.common } as unknown as { key: string }));
  }

  async registerService(service: ServiceDefinition, options: RequestOptions = {}): Promise<void> {
    await this.call(options, ({ consul }, request) =>
      consul.agent.service.register({
        name: service.name,
        id: service.id,
        address: service.address,
        port: service.port,
        tags: [...service.tags],
        meta: { ...service.meta },
        checks: service.checks.map((check) => ({
          checkid: check.checkId,
          name: check.name,
          ...(check.ttlMs !== undefined && { ttl: consulDuration(check.ttlMs) }),
          ...(check.grpc !== undefined && { grpc: check.grpc, grpcusetls: check.grpcUseTls ?? false }),
          ...(check.tlsServerName !== undefined && { tlsservername: check.tlsServerName }),
          ...(check.intervalMs !== undefined && { interval: consulDuration(check.intervalMs) }),
          ...(check.timeoutMs !== undefined && { timeout: consulDuration(check.timeoutMs) }),
          ...(check.status !== undefined && { status: check.status }),
          deregistercriticalserviceafter: consulDuration(check.deregisterCriticalAfterMs),
        })),
        ...request.common,
        // node-consul's typings lack the per-request options it supports (token, ctx, timeout).
      } as unknown as Parameters<Consul['agent']['service']['register']>[0]),
    );
  }

  async deregisterService(serviceId: string, options: RequestOptions = {}): Promise<void> {
    await this.call(options, ({ consul }, request) =>
      consul.agent.service.deregister({ id: serviceId, ...request.common } as unknown as { id: string }),
    );
  }

  /** The Raft leader's address as the agent sees it ("" when there is none); needs no ACL token. */
  async leader(options: RequestOptions = {}): Promise<string> {
    return (await this.call(options, ({ consul }, request) =>
      consul.status.leader(request.common as unknown as Parameters<Consul['status']['leader']>[0]),
    )) as string;
  }

  /** Resets a TTL check's clock; a ConsulError 'not-found' when the agent lost the check. */
  async passTtl(checkId: string, options: RequestOptions = {}): Promise<void> {
    await this.call(options, ({ consul }, request) =>
      consul.agent.check.pass({ id: checkId, ...request.common } as unknown as { id: string }),
    );
  }

  /** The status the agent has for one of its checks, or undefined when it has no such check. */
  async checkStatus(checkId: string, options: RequestOptions = {}): Promise<string | undefined> {
    const checks = (await this.call(options, ({ consul }, request) =>
      consul.agent.check.list({
        filter: `CheckID == ${JSON.stringify(checkId)}`,
        ...request.common,
      } as unknown as Parameters<Consul['agent']['check']['list']>[0]),
    )) as Record<string, { Status: string }>;
    return Object.values(checks)[0]?.Status;
  }

  /** Puts a service in (or out of) maintenance: in it, every health query skips the instance. */
  async setMaintenance(serviceId: string, enable: boolean, reason: string, options: RequestOptions = {}): Promise<void> {
    await this.call(options, ({ consul }, request) =>
      consul.agent.service.maintenance({ id: serviceId, enable, reason, ...request.common } as unknown as Parameters<
        Consul['agent']['service']['maintenance']
      >[0]),
    );
  }

  /**
   * Drops the pooled keep-alive connections: after this host's address
   * changed they are bound to an address it no longer has, and a request on
   * one would hang until its timeout instead of going out at once. Requests
   * from now on go out on new connections. A client may be shared, so the
   * requests in flight are left to finish (or time out) on theirs: a reset
   * asked by one user (a registrar whose address moved) must not abort
   * another's blocking query. Their old pool is closed when they end.
   */
  resetConnections(): void {
    for (const client of this.clients) {
      if (client.inFlight === 0) {
        client.agent.destroy();
        continue;
      }
      for (const sockets of Object.values(client.agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
      this.retired.add(client);
    }
    this.clients = this.connection.endpoints.map((endpoint) => this.clientFor(endpoint));
  }

  /** Closes every connection, aborting the requests in flight (the owner is done with the client). */
  close(): void {
    for (const client of [...this.clients, ...this.retired]) client.agent.destroy();
    this.retired.clear();
  }

  /**
   * One consulGet on the agent call() picks, with the token and the caller's
   * abort signal. Its deadline is the caller's, else the default; a blocking
   * query's is stretched by its `waitMs` and the wait/16 jitter Consul may add.
   */
  private get(
    options: RequestOptions,
    request: Omit<ConsulGetRequest, 'signal' | 'timeoutMs'>,
    waitMs?: number,
  ): Promise<{ answer: ConsulAnswer; endpoint: ConsulEndpoint }> {
    const deadlineMs = (waitMs === undefined ? 0 : waitMs * 1.1) + this.connection.requestTimeoutMs;
    return this.call(options, async ({ endpoint, agent }, { headers }) => ({
      endpoint,
      answer: await consulGet(endpoint, agent, {
        ...request,
        headers: { ...headers, ...request.headers },
        timeoutMs: options.timeoutMs ?? deadlineMs,
        ...(options.signal && { signal: options.signal }),
      }),
    }));
  }

  private clientFor(endpoint: ConsulEndpoint): AgentClient {
    const tls = this.connection.tls;
    const agent = endpoint.https
      ? new HttpsAgent({
          keepAlive: true,
          ...(tls?.ca && { ca: tls.ca }),
          ...(tls?.cert && { cert: tls.cert }),
          ...(tls?.key && { key: tls.key }),
          ...(tls?.servername && { servername: tls.servername }),
          rejectUnauthorized: tls?.rejectUnauthorized ?? true,
        })
      : new HttpAgent({ keepAlive: true });
    const consul = new Consul({ host: endpoint.host, port: endpoint.port, secure: endpoint.https, agent } as ConstructorParameters<
      typeof Consul
    >[0]);
    return { endpoint, consul, agent, inFlight: 0 };
  }

  /**
   * Runs one request against the pinned agent or the current one, with the
   * current token, the caller's abort signal and the default deadline; errors
   * come out as ConsulError. An unreachable agent passes the turn to the next.
   */
  private async call<T>(
    options: RequestOptions,
    run: (
      client: AgentClient,
      request: {
        /** The token header, for consulGet. */
        headers: Record<string, string>;
        /** The per-request options of the `consul` client's methods. */
        common: { token?: string; ctx: EventEmitter; timeout: number };
      },
    ) => Promise<T>,
  ): Promise<T> {
    const index = options.endpoint ? this.clients.findIndex((c) => c.endpoint.url === options.endpoint?.url) : this.current;
    const client = this.clients[index];
    if (!client) throw new ConsulError('unreachable', `no Consul agent ${options.endpoint?.url} in this connection`);
    // Counted from here: a reset while the token is read must not close the pool under this request.
    client.inFlight += 1;
    // node-consul aborts a request when its "ctx" emitter emits 'cancel'.
    const ctx = new EventEmitter();
    const abort = (): void => {
      ctx.emit('cancel');
    };
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      const token = await this.connection.token.read();
      if (options.signal?.aborted) throw new ConsulError('unreachable', `request to ${client.endpoint.url} aborted`);
      return await run(client, {
        headers: token ? { 'x-consul-token': token } : {},
        common: { ...(token && { token }), ctx, timeout: options.timeoutMs ?? this.connection.requestTimeoutMs },
      });
    } catch (error) {
      if (options.signal?.aborted) throw new ConsulError('unreachable', `request to ${client.endpoint.url} aborted`);
      const consulError = toConsulError(error, client.endpoint.url);
      // Pinned or not, a request that finds the current agent away moves the
      // turn on: a registrar whose agent died then registers on a live one.
      if (consulError.kind === 'unreachable' && index === this.current && this.clients.length > 1) {
        this.current = (this.current + 1) % this.clients.length;
      }
      throw consulError;
    } finally {
      options.signal?.removeEventListener('abort', abort);
      client.inFlight -= 1;
      if (client.inFlight === 0 && this.retired.delete(client)) client.agent.destroy();
    }
  }
}

function toInstance(entry: HealthEntry): ServiceInstance {
  return {
    id: entry.Service.ID,
    // An empty service address means "the node's address" in Consul.
    address: entry.Service.Address || entry.Node.Address,
    port: entry.Service.Port,
    tags: entry.Service.Tags ?? [],
    meta: entry.Service.Meta ?? {},
    node: entry.Node.Node,
    ...(typeof entry.Node.Datacenter === 'string' && entry.Node.Datacenter !== '' && { datacenter: entry.Node.Datacenter }),
    ...(entry.Service.Weights !== undefined && { weights: entry.Service.Weights }),
    status: (entry.Checks ?? []).reduce<ServiceInstance['status']>(
      (worst, check) =>
        SEVERITY.indexOf(check.Status as ServiceInstance['status']) > SEVERITY.indexOf(worst)
          ? (check.Status as ServiceInstance['status'])
          : worst,
      'passing',
    ),
  };
}
