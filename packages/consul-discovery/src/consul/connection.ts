import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ConsulConfigError, ConsulError } from './errors.js';

/**
 * How to reach Consul: which agents, with which token, over which TLS. Every
 * field falls back to the environment variable the `consul` CLI reads, so a
 * process configured for the CLI is configured for this library.
 */
export interface ConsulTlsOptions {
  /** CA certificate(s), PEM. Env: CONSUL_CACERT (a file). */
  readonly ca?: string | Buffer;
  readonly caFile?: string;
  /** Client certificate and key, PEM, for agents that verify incoming TLS. Env: CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY. */
  readonly cert?: string | Buffer;
  readonly certFile?: string;
  readonly key?: string | Buffer;
  readonly keyFile?: string;
  /** Name to verify the agent's certificate against. Env: CONSUL_TLS_SERVER_NAME. */
  readonly serverName?: string;
  /** Skips verifying the agent's certificate. Env: CONSUL_HTTP_SSL_VERIFY=false. For experiments only. */
  readonly insecureSkipVerify?: boolean;
}

export interface ConsulConnectionOptions {
  /**
   * One agent or several ("host:port", "http://host:port", "https://host:port";
   * a comma-separated string or an array). Several: requests go to one and
   * move to the next when it does not answer. Env: CONSUL_HTTP_ADDR (commas allowed).
   * Default 127.0.0.1:8500.
   */
  readonly address?: string | readonly string[];
  /** HTTPS for addresses written without a scheme. Env: CONSUL_HTTP_SSL. */
  readonly https?: boolean;
  /** ACL token. Env: CONSUL_HTTP_TOKEN. */
  readonly token?: string;
  /** File holding the ACL token, read at every request, so a replaced token is used at once. Wins over `token`, as in the CLI. Env: CONSUL_HTTP_TOKEN_FILE. */
  readonly tokenFile?: string;
  readonly tls?: ConsulTlsOptions;
  /** Deadline of every request but blocking queries. Default 5000. */
  readonly requestTimeoutMs?: number;
  /** Where the CONSUL_* fallbacks are read; default process.env. Pass {} to ignore the environment. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface ConsulEndpoint {
  readonly https: boolean;
  readonly host: string;
  readonly port: number;
  /** "https://host:port", for messages and keys. */
  readonly url: string;
}

export interface ResolvedTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly servername?: string;
  readonly rejectUnauthorized: boolean;
}

/** Reads the current ACL token; undefined means anonymous. */
export interface TokenSource {
  /** Where the token comes from, never the token: "CONSUL_HTTP_TOKEN_FILE /run/secrets/x". */
  readonly description: string;
  /** Equal for sources that give the same token; holds no secret. */
  readonly identity: string;
  read(): Promise<string | undefined>;
}

export interface ResolvedConnection {
  readonly endpoints: readonly ConsulEndpoint[];
  readonly token: TokenSource;
  readonly tls: ResolvedTls | undefined;
  readonly requestTimeoutMs: number;
  /** Equal for connections that reach the same agents as the same principal; holds no secret. */
  readonly identity: string;
}

const DEFAULT_ADDRESS = '127.0.0.1:8500';

function parseBool(name: string, value: string): boolean {
  if (/^(1|t|true)$/i.test(value)) return true;
  if (/^(0|f|false)$/i.test(value)) return false;
  throw new ConsulConfigError(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

/** "host:port", "http(s)://host:port" or "[v6]:port" into an endpoint. */
export function parseEndpoint(value: string, httpsByDefault: boolean): ConsulEndpoint {
  const match = /^(?:(https?):\/\/)?([^:/\s[\]]+|\[[^\]]+\]):(\d{1,5})\/?$/.exec(value.trim());
  const port = Number(match?.[3]);
  if (!match?.[2] || !(port >= 1 && port <= 65535)) {
    throw new ConsulConfigError(`Consul address ${JSON.stringify(value)} is not host:port or http(s)://host:port`);
  }
  const https = match[1] === undefined ? httpsByDefault : match[1] === 'https';
  const host = match[2].replace(/^\[|\]$/g, '');
  return { https, host, port, url: `${https ? 'https' : 'http'}://${match[2]}:${port}` };
}

function readPem(what: string, inline: string | Buffer | undefined, file: string | undefined): Buffer | undefined {
  if (inline !== undefined) return Buffer.from(inline);
  if (file === undefined || file === '') return undefined;
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConsulConfigError(`cannot read the ${what} file ${file}: ${(error as Error).message}`);
  }
}

const digest = (value: string | Buffer | undefined): string =>
  value === undefined ? '' : createHash('sha256').update(value).digest('hex').slice(0, 16);

function tokenSource(options: ConsulConnectionOptions, env: NodeJS.ProcessEnv): TokenSource {
  // The CLI's precedence: token file option, token option, CONSUL_HTTP_TOKEN_FILE, CONSUL_HTTP_TOKEN.
  const file = options.tokenFile ?? (options.token === undefined ? env.CONSUL_HTTP_TOKEN_FILE || undefined : undefined);
  if (file !== undefined) {
    const description = options.tokenFile !== undefined ? `token file ${file}` : `CONSUL_HTTP_TOKEN_FILE ${file}`;
    return {
      description,
      identity: `file:${file}`,
      async read() {
        try {
          return (await readFile(file, 'utf8')).trim() || undefined;
        } catch (error) {
          throw new ConsulError(
            'token',
            `cannot read the ACL ${description}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
          );
        }
      },
    };
  }
  const token = options.token ?? (env.CONSUL_HTTP_TOKEN || undefined);
  const description = token === undefined ? 'no token (anonymous)' : options.token !== undefined ? 'the token option' : 'CONSUL_HTTP_TOKEN';
  return { description, identity: token === undefined ? 'anonymous' : `token:${digest(token)}`, read: () => Promise.resolve(token) };
}

/** Options, then the environment, then defaults; throws ConsulConfigError naming what is wrong. */
export function resolveConnection(options: ConsulConnectionOptions = {}): ResolvedConnection {
  const env = options.env ?? process.env;
  const httpsByDefault = options.https ?? (env.CONSUL_HTTP_SSL ? parseBool('CONSUL_HTTP_SSL', env.CONSUL_HTTP_SSL) : false);
  const rawAddresses = options.address ?? (env.CONSUL_HTTP_ADDR || DEFAULT_ADDRESS);
  const list = (typeof rawAddresses === 'string' ? rawAddresses.split(',') : [...rawAddresses]).map((a) => a.trim()).filter(Boolean);
  if (list.length === 0) throw new ConsulConfigError('no Consul address given');
  const endpoints = list.map((address) => parseEndpoint(address, httpsByDefault));

  const t = options.tls ?? {};
  const verify =
    t.insecureSkipVerify !== undefined
      ? !t.insecureSkipVerify
      : env.CONSUL_HTTP_SSL_VERIFY
        ? parseBool('CONSUL_HTTP_SSL_VERIFY', env.CONSUL_HTTP_SSL_VERIFY)
        : true;
  const ca = readPem('CA certificate', t.ca, t.caFile ?? env.CONSUL_CACERT);
  const cert = readPem('client certificate', t.cert, t.certFile ?? env.CONSUL_CLIENT_CERT);
  const key = readPem('client key', t.key, t.keyFile ?? env.CONSUL_CLIENT_KEY);
  if ((cert === undefined) !== (key === undefined))
    throw new ConsulConfigError('a client certificate needs its key, and a key its certificate');
  const servername = t.serverName ?? (env.CONSUL_TLS_SERVER_NAME || undefined);
  const anyHttps = endpoints.some((endpoint) => endpoint.https);
  const tls: ResolvedTls | undefined = anyHttps
    ? {
        ...(ca && { ca }),
        ...(cert && { cert }),
        ...(key && { key }),
        ...(servername && { servername }),
        rejectUnauthorized: verify,
      }
    : undefined;

  const token = tokenSource(options, env);
  const requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
  const identity = JSON.stringify({
    endpoints: endpoints.map((endpoint) => endpoint.url),
    token: token.identity,
    tls: tls && [digest(tls.ca), digest(tls.cert), tls.servername ?? '', tls.rejectUnauthorized],
    requestTimeoutMs,
  });
  return { endpoints, token, tls, requestTimeoutMs, identity };
}
