import { type Agent as HttpAgent, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ConsulEndpoint } from './connection.js';
import { statusError } from './errors.js';

/**
 * One GET of Consul's HTTP API on node:http(s), for the reads that need what
 * the `consul` client's documented API cannot give: the X-Consul-Index header
 * a blocking query goes on with, the `cached` and `max_stale` parameters and a
 * Cache-Control header, and a 404 read as an answer. It goes out on the
 * connection's keep-alive agent, which carries its TLS settings.
 */
export interface ConsulGetRequest {
  /** Under /v1, its parameters already encoded: "/health/service/HelloService". */
  readonly path: string;
  /** A list sends the parameter once per value (tag=a&tag=b); "" sends it bare of value (stale=). */
  readonly query?: Readonly<Record<string, string | readonly string[]>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** The whole request, answer included, ends with an error after this long. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Statuses besides 2xx that are answers, not errors (404: no such key). */
  readonly answers?: readonly number[];
}

export interface ConsulAnswer {
  readonly status: number;
  /** X-Consul-Index; 0 when the answer has none, or one that is not a number. */
  readonly index: number;
  /** The JSON body of a 2xx answer; undefined for an empty one and for the `answers` statuses. */
  readonly body: unknown;
}

/**
 * Rejects with a ConsulError for a status Consul refused with, a SyntaxError
 * for a 2xx body that is not JSON, and node's own error when there was no
 * answer (refused, reset, TLS, timed out, aborted): the caller classifies
 * the last two with toConsulError, as it does the `consul` client's.
 */
export function consulGet(endpoint: ConsulEndpoint, agent: HttpAgent, get: ConsulGetRequest): Promise<ConsulAnswer> {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(get.query ?? {})) {
    for (const one of typeof value === 'string' ? [value] : value) search.append(name, one);
  }
  const query = search.toString();
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => ConsulAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        resolve(outcome());
      } catch (error) {
        reject(error);
      }
    };
    const fail = (error: Error): void =>
      settle(() => {
        throw error;
      });
    const request = (endpoint.https ? httpsRequest : httpRequest)(
      {
        host: endpoint.host,
        port: endpoint.port,
        method: 'GET',
        path: `/v1${get.path}${query ? `?${query}` : ''}`,
        headers: { accept: 'application/json', ...get.headers },
        agent,
        ...(get.signal && { signal: get.signal }),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        // Cut mid-answer (a reset, our own timeout): after a complete answer 'end' has settled it already.
        response.on('close', () => fail(new Error('the connection closed before the answer ended')));
        response.on('end', () =>
          settle(() => {
            const status = response.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            const ok = status >= 200 && status < 300;
            if (!ok && !get.answers?.includes(status)) throw statusError(status, text, endpoint.url, response.statusMessage);
            const index = Number(response.headers['x-consul-index'] ?? 0);
            return {
              status,
              index: Number.isFinite(index) && index >= 0 ? index : 0,
              body: ok && text.trim() !== '' ? (JSON.parse(text) as unknown) : undefined,
            };
          }),
        );
      },
    );
    request.on('error', fail);
    // Set before any event can settle the request (none fires before this function returns).
    const timer = setTimeout(() => request.destroy(new Error(`request timed out (${get.timeoutMs} ms)`)), get.timeoutMs);
    request.end();
  });
}
