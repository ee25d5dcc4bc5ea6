import { type ConsulAddress, parseConsulAddress } from '../consul/consul-client.js';

/**
 * A parsed `consul://[consul-host:port]/<service>[?tag=…&dc=…&mode=…]` target.
 *   consul:///HelloService                 Consul from CONSUL_HTTP_ADDR (or 127.0.0.1:8500)
 *   consul://consul:8500/HelloService?tag=v1&dc=dc1
 *   consul:///HelloService?mode=poll&interval=500ms   the seed's polling, for comparison
 */
export type WatchMode = 'blocking' | 'poll';

export interface ConsulTarget {
  readonly consul: ConsulAddress;
  readonly service: string;
  readonly tag?: string;
  readonly dc?: string;
  readonly mode: WatchMode;
  /** Poll mode: time between queries. */
  readonly pollIntervalMs: number;
  /** Blocking mode: how long Consul may hold a query open. */
  readonly waitMs: number;
}

export class InvalidTargetError extends Error {}

const DEFAULT_CONSUL = '127.0.0.1:8500';
const KNOWN_PARAMS = new Set(['tag', 'dc', 'mode', 'interval', 'wait']);
// Consul's own limit for a blocking query's wait is 10 minutes.
const MAX_WAIT_MS = 600_000;

/** Parses "500ms", "2s", "1m" or a bare number of milliseconds. */
export function parseDurationMs(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!match) return undefined;
  const factor = { ms: 1, s: 1_000, m: 60_000 }[match[2] ?? 'ms'] ?? 1;
  return Math.round(Number(match[1]) * factor);
}

/** `authority` and `path` as grpc-js's URI parser splits a target. */
export function parseConsulTarget(authority: string | undefined, path: string, env: NodeJS.ProcessEnv = process.env): ConsulTarget {
  const [rawService = '', query = ''] = path.replace(/^\/+/, '').split('?', 2);
  const service = decodeURIComponent(rawService);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(service)) {
    throw new InvalidTargetError(`consul target needs a service name (letters, digits, '.', '_', '-'), got ${JSON.stringify(rawService)}`);
  }
  let consul: ConsulAddress;
  try {
    consul = parseConsulAddress(authority || env.CONSUL_HTTP_ADDR || DEFAULT_CONSUL);
  } catch (error) {
    throw new InvalidTargetError((error as Error).message);
  }
  const params = new URLSearchParams(query);
  for (const key of params.keys()) {
    if (!KNOWN_PARAMS.has(key))
      throw new InvalidTargetError(`unknown consul target parameter ${JSON.stringify(key)} (known: ${[...KNOWN_PARAMS].join(', ')})`);
  }
  const mode = params.get('mode') ?? 'blocking';
  if (mode !== 'blocking' && mode !== 'poll')
    throw new InvalidTargetError(`consul target mode must be "blocking" or "poll", got ${JSON.stringify(mode)}`);
  const duration = (name: string, fallback: number, max: number): number => {
    const raw = params.get(name);
    if (raw === null) return fallback;
    const value = parseDurationMs(raw);
    if (value === undefined || value < 10 || value > max)
      throw new InvalidTargetError(`consul target ${name} must be a duration between 10ms and ${max}ms, got ${JSON.stringify(raw)}`);
    return value;
  };
  const tag = params.get('tag');
  const dc = params.get('dc');
  return {
    consul,
    service,
    ...(tag ? { tag } : {}),
    ...(dc ? { dc } : {}),
    mode,
    pollIntervalMs: duration('interval', 500, MAX_WAIT_MS),
    waitMs: duration('wait', 60_000, MAX_WAIT_MS),
  };
}

/** Parses a whole target string, for validating configuration before any channel exists. */
export function parseConsulTargetString(target: string, env: NodeJS.ProcessEnv = process.env): ConsulTarget {
  const match = /^consul:(?:\/\/([^/]*))?\/(.*)$/.exec(target);
  if (!match) throw new InvalidTargetError(`expected consul://[host:port]/<service>[?tag=…&dc=…], got ${JSON.stringify(target)}`);
  return parseConsulTarget(match[1], match[2] ?? '', env);
}
