import type { Toxic } from './toxics.js';

/** A proxy as Toxiproxy reports it: `listen` is the address it bound (a port 0 asked is the one it got). */
export interface ProxyState {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
  readonly toxics: readonly Toxic[];
}

export interface ProxySpec {
  readonly name: string;
  /** host:port it listens on, in the namespace Toxiproxy runs in. */
  readonly listen: string;
  /** host:port it forwards to. */
  readonly upstream: string;
}

/**
 * Toxiproxy did not answer, or refused a request: one line naming its address
 * and what went wrong, for the caller to print as it is. Thrown before any
 * change of ours when Toxiproxy cannot be reached.
 */
export class ToxiproxyError extends Error {
  override name = 'ToxiproxyError';
}

/** How long a request may take before Toxiproxy counts as not answering; its API answers in well under a millisecond. */
const DEFAULT_TIMEOUT_MS = 2_000;

/**
 * Toxiproxy's HTTP API, the calls the network faults need: a proxy made and
 * removed, toxics added, removed and listed (the read-back that proves a fault
 * or its undo). Our own small client over fetch rather than
 * toxiproxy-node-client: that one's requests cannot be given a time limit, so
 * a Toxiproxy that accepts and never answers would hold a fault's apply for
 * minutes; its Proxy drops the toxics Toxiproxy reports; and its errors keep
 * the status code but not Toxiproxy's reason (chaos/toxiproxy/README.md).
 */
export class ToxiproxyApi {
  private readonly base: URL;

  constructor(
    url: string,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new ToxiproxyError(`Toxiproxy's address '${url}' is not an http(s) URL (example: http://127.0.0.1:8474)`);
    }
    this.base = new URL(url);
  }

  /** Its address as given, for messages. */
  get url(): string {
    return this.base.origin;
  }

  /** The version it reports: also the cheapest "does it answer". */
  async version(): Promise<string> {
    const answer = await this.request('GET', '/version');
    // 2.x before 2.6 answered plain text; later versions a JSON object.
    return typeof answer === 'object' && answer !== null && 'version' in answer ? String(answer.version) : String(answer);
  }

  async createProxy(spec: ProxySpec): Promise<ProxyState> {
    return (await this.request('POST', '/proxies', { ...spec, enabled: true })) as ProxyState;
  }

  async proxy(name: string): Promise<ProxyState> {
    return (await this.request('GET', `/proxies/${encodeURIComponent(name)}`)) as ProxyState;
  }

  /** Removes the proxy: it stops listening and closes every connection through it. */
  async deleteProxy(name: string): Promise<void> {
    await this.request('DELETE', `/proxies/${encodeURIComponent(name)}`);
  }

  async addToxic(proxy: string, toxic: Toxic): Promise<Toxic> {
    return (await this.request('POST', `/proxies/${encodeURIComponent(proxy)}/toxics`, toxic)) as Toxic;
  }

  async removeToxic(proxy: string, toxic: string): Promise<void> {
    await this.request('DELETE', `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic)}`);
  }

  /** The toxics in force on the proxy now, as Toxiproxy reports them. */
  async toxics(proxy: string): Promise<Toxic[]> {
    return (await this.request('GET', `/proxies/${encodeURIComponent(proxy)}/toxics`)) as Toxic[];
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const what = `${method} ${path}`;
    let response: Response;
    try {
      response = await fetch(new URL(path, this.base), {
        method,
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
    } catch (error) {
      throw new ToxiproxyError(`Toxiproxy at ${this.url} does not answer (${what}: ${whyUnanswered(error, this.timeoutMs)})`);
    }
    // Reading the body is part of the answer: a server that sends headers and then stalls is not answering either.
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw new ToxiproxyError(`Toxiproxy at ${this.url} does not answer (${what}: ${whyUnanswered(error, this.timeoutMs)})`);
    }
    if (!response.ok) {
      throw new ToxiproxyError(`Toxiproxy at ${this.url} refused ${what}: ${reasonOf(text)} (HTTP ${response.status})`);
    }
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ToxiproxyError(`Toxiproxy at ${this.url} answered ${what} with something other than JSON: ${oneLine(text)}`);
    }
  }
}

/** fetch's reason in a few words: the socket error's code when there is one, the time limit when it ran out. */
function whyUnanswered(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  const detail = cause?.message ?? (error instanceof Error ? error.message : String(error));
  return oneLine(detail);
}

/** Toxiproxy's errors are {"error": "...", "status": N}; anything else is shown as it came. */
function reasonOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON: shown below as it is
  }
  return oneLine(text) || 'no reason given';
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
