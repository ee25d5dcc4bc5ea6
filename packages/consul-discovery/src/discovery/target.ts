import type { Consistency } from '../consul/consul-http.js';
import { parseDurationMs } from '../internal/duration.js';
import { weightsParam } from './consul-weights.js';
import { serviceConfigKeyParam } from './kv-service-config.js';

/**
 * The `consul:` target grammar:
 *
 *   consul://[agent[,agent...]]/<service>[?param=value&...]
 *
 *   consul:///HelloService                         agents from the options or CONSUL_HTTP_ADDR
 *   consul://10.0.0.2:8500,10.0.0.3:8500/HelloService?tag=v2&tag=grpc&dc=eu
 *   consul:///HelloService?consistency=stale&max-stale=30s
 *   consul:///HelloService?cached&max-age=10s&stale-if-error=5m
 *   consul:///HelloService?mode=poll&interval=500ms  (the seed demo's polling)
 *   consul:///HelloService?service-config=grpc/hello.json&weights=consul
 *   consul:///HelloService?near=_agent&limit=3       the 3 nearest, nearest first
 *   consul:///HelloService?dc=dc1,dc2                dc1's instances; dc2's only while dc1 has none
 *   consul:///HelloService?dc=dc1,dc2&merge-dc       every listed datacenter's instances at once
 *   consul:///HelloService?query=hello&dc=dc1,dc2    a prepared query, executed (polled) at the first dc that answers
 *
 * Secrets (tokens, keys) never go in a target: targets end up in logs.
 */
export type WatchMode = 'blocking' | 'poll';

/** What one watch asks Consul; together with the connection, it names a shared watch. */
export interface DiscoverySpec {
  readonly service: string;
  readonly tags: readonly string[];
  readonly dc?: string;
  /** Sort by round-trip time from this node; the instances keep Consul's order. */
  readonly near?: string;
  /** At most this many instances: the first in Consul's order (with near, the nearest). */
  readonly limit?: number;
  readonly filter?: string;
  readonly consistency: Consistency;
  readonly maxStaleMs?: number;
  readonly cached?: { readonly maxAgeMs?: number; readonly staleIfErrorMs?: number };
  readonly mode: WatchMode;
  /** Blocking mode: how long Consul may hold a query open. Consul's recommended default: 5 minutes. */
  readonly waitMs: number;
  /** Poll mode: time between queries. */
  readonly pollIntervalMs: number;
  /** 'consul': Consul's service Weights count, and instances in warning state are called too (consul-weights.ts). */
  readonly weights?: 'consul';
  /** Every registered instance, whatever its checks say (preconnect.ts watches them; never a channel's set). */
  readonly allStates?: true;
}

/**
 * A target that names several datacenters (`dc=dc1,dc2`): the spec has no
 * `dc`, each datacenter is watched with the spec and its own `dc`
 * (datacenter-failover.ts).
 */
export interface DatacenterChoice {
  /** Two or more, in priority order, no duplicates. */
  readonly order: readonly string[];
  /** `merge-dc`: every listed datacenter's instances at once, instead of the first that has any. */
  readonly merge: boolean;
}

export interface ConsulTarget {
  /** The agents named in the target's authority, when it names any. */
  readonly address?: string;
  readonly spec: DiscoverySpec;
  /** The Consul KV key holding this channel's gRPC service config (kv-service-config.ts). Not in the spec: it does not change the health query. */
  readonly serviceConfigKey?: string;
  /** With `dc=a,b,...`: the datacenters in priority order. A single `dc` stays in the spec. */
  readonly datacenters?: DatacenterChoice;
  /** With `query=NAME`: a prepared query executed (polled: execute cannot block) instead of the health query (prepared-query-watch.ts). */
  readonly preparedQuery?: string;
}

export class InvalidTargetError extends Error {
  override name = 'InvalidTargetError';
}

export const DEFAULT_WAIT_MS = 5 * 60_000;
// Consul's own limit for a blocking query's wait.
const MAX_WAIT_MS = 10 * 60_000;
const DEFAULT_POLL_INTERVAL_MS = 500;

const PARAMS = [
  'tag',
  'dc',
  'near',
  'limit',
  'filter',
  'consistency',
  'max-stale',
  'cached',
  'max-age',
  'stale-if-error',
  'wait',
  'mode',
  'interval',
  'service-config',
  'weights',
  'merge-dc',
  'query',
];
/** What a prepared query decides itself, or what its execute endpoint cannot do: refused beside `query`. */
const NOT_WITH_QUERY = ['tag', 'filter', 'consistency', 'max-stale', 'mode', 'wait', 'weights', 'merge-dc'];
const DATACENTER_NAME = /^[A-Za-z0-9_-]+$/;
const QUERY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function fail(message: string): never {
  throw new InvalidTargetError(`consul target: ${message}`);
}

function duration(params: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  const value = parseDurationMs(raw);
  if (value === undefined || value < min || value > max)
    fail(`${name} must be a duration from ${min}ms to ${max / 1_000}s, got ${JSON.stringify(raw)}`);
  return value;
}

function positiveInteger(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  if (!/^[1-9][0-9]{0,8}$/.test(raw)) fail(`${name} must be a whole number from 1 to 999999999, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function flag(params: URLSearchParams, name: string): boolean {
  const raw = params.get(name);
  if (raw === null) return false;
  if (raw === '' || raw === 'true') return true;
  if (raw === 'false') return false;
  return fail(`${name} takes no value (or true/false), got ${JSON.stringify(raw)}`);
}

/** `authority` and `path` as grpc-js's URI parser splits a target. */
export function parseConsulTarget(authority: string | undefined, path: string): ConsulTarget {
  const [rawService = '', query = ''] = path.replace(/^\/+/, '').split('?', 2);
  const service = decodeURIComponent(rawService);
  if (!SERVICE_NAME.test(service)) fail(`needs a service name (letters, digits, '.', '_', '-'), got ${JSON.stringify(rawService)}`);
  const params = new URLSearchParams(query);
  for (const key of new Set(params.keys())) {
    if (!PARAMS.includes(key)) fail(`unknown parameter ${JSON.stringify(key)} (known: ${PARAMS.join(', ')})`);
    if (key !== 'tag' && params.getAll(key).length > 1) fail(`${key} is given more than once`);
  }
  const tags = params.getAll('tag');
  if (tags.some((tag) => tag.trim() === '')) fail('tag must not be empty');

  const preparedQuery = preparedQueryParam(params);
  // A prepared query's execute cannot block: it is polled, every `interval`.
  const mode = preparedQuery !== undefined ? 'poll' : (params.get('mode') ?? 'blocking');
  if (mode !== 'blocking' && mode !== 'poll') fail(`mode must be "blocking" or "poll", got ${JSON.stringify(mode)}`);
  if (mode === 'poll' && params.has('wait')) fail('wait is for blocking queries; poll mode takes interval');
  if (mode === 'blocking' && params.has('interval')) fail('interval is for mode=poll; blocking queries take wait');

  const maxStaleMs = duration(params, 'max-stale', 1, 24 * 3_600_000);
  const consistency = params.get('consistency') ?? (maxStaleMs !== undefined ? 'stale' : 'default');
  if (consistency !== 'default' && consistency !== 'stale' && consistency !== 'consistent') {
    fail(`consistency must be default, stale or consistent, got ${JSON.stringify(consistency)}`);
  }
  if (maxStaleMs !== undefined && consistency !== 'stale') fail('max-stale needs consistency=stale');

  const cached = flag(params, 'cached');
  const maxAgeMs = duration(params, 'max-age', 0, 24 * 3_600_000);
  const staleIfErrorMs = duration(params, 'stale-if-error', 0, 24 * 3_600_000);
  if (!cached && (maxAgeMs !== undefined || staleIfErrorMs !== undefined)) fail('max-age and stale-if-error need cached');
  if (cached && consistency === 'consistent') fail('cached answers come from the agent, they cannot be consistent');

  const datacenters = datacentersParam(params);
  const dc = datacenters?.length === 1 ? datacenters[0] : undefined;
  const merge = flag(params, 'merge-dc');
  if (merge && (datacenters === undefined || datacenters.length < 2)) fail('merge-dc needs two or more datacenters in dc');
  const near = params.get('near') ?? undefined;
  const limit = positiveInteger(params, 'limit');
  const filter = params.get('filter') ?? undefined;
  if (filter !== undefined && filter.trim() === '') fail('filter must not be empty');
  const serviceConfigKey = serviceConfigKeyParam(params, service, fail);
  const weights = weightsParam(params, fail);

  return {
    ...(authority ? { address: authority } : {}),
    ...(serviceConfigKey !== undefined && { serviceConfigKey }),
    ...(datacenters !== undefined && datacenters.length > 1 && { datacenters: { order: datacenters, merge } }),
    ...(preparedQuery !== undefined && { preparedQuery }),
    spec: {
      service,
      tags,
      ...(dc !== undefined && { dc }),
      ...(near !== undefined && { near }),
      ...(limit !== undefined && { limit }),
      ...(filter !== undefined && { filter }),
      consistency,
      ...(maxStaleMs !== undefined && { maxStaleMs }),
      ...(cached && {
        cached: { ...(maxAgeMs !== undefined && { maxAgeMs }), ...(staleIfErrorMs !== undefined && { staleIfErrorMs }) },
      }),
      mode,
      waitMs: duration(params, 'wait', 1_000, MAX_WAIT_MS) ?? DEFAULT_WAIT_MS,
      pollIntervalMs: duration(params, 'interval', 10, MAX_WAIT_MS) ?? DEFAULT_POLL_INTERVAL_MS,
      ...(weights !== undefined && { weights }),
    },
  };
}

/**
 * `dc`: one datacenter (today's target, unchanged), or several in priority
 * order, comma-separated. A name listed twice or an empty one is refused,
 * naming it: the order would not mean what it says.
 */
function datacentersParam(params: URLSearchParams): string[] | undefined {
  const raw = params.get('dc');
  if (raw === null) return undefined;
  const names = raw.split(',');
  const seen = new Set<string>();
  for (const name of names) {
    if (name === '') fail(`dc lists an empty datacenter name in ${JSON.stringify(raw)}`);
    if (!DATACENTER_NAME.test(name)) fail(`dc must be a datacenter name or a comma-separated list of them, got ${JSON.stringify(name)}`);
    if (seen.has(name)) fail(`dc names datacenter ${JSON.stringify(name)} twice, in ${JSON.stringify(raw)}`);
    seen.add(name);
  }
  return names;
}

/** `query=NAME`: a prepared query's name or id; the parameters it decides itself are refused beside it. */
function preparedQueryParam(params: URLSearchParams): string | undefined {
  const name = params.get('query');
  if (name === null) return undefined;
  if (!QUERY_NAME.test(name)) fail(`query must be a prepared query's name or id, got ${JSON.stringify(name)}`);
  const conflicting = NOT_WITH_QUERY.find((param) => params.has(param));
  if (conflicting !== undefined)
    fail(`${conflicting} cannot go with query: the prepared query ${JSON.stringify(name)} decides what it returns`);
  return name;
}

/** Parses a whole target string, to validate configuration before any channel exists. */
export function parseConsulTargetString(target: string): ConsulTarget {
  const match = /^consul:(?:\/\/([^/]*))?\/(.*)$/.exec(target);
  if (!match) fail(`expected consul://[agent,...]/<service>[?tag=…&dc=…], got ${JSON.stringify(target)}`);
  return parseConsulTarget(match[1], match[2] ?? '');
}
