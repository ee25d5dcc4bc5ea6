import { createServer, request, type Server } from 'node:http';

/**
 * An HTTP proxy in front of a real Consul agent that records what it is
 * asked, to count the load a client puts on Consul: how many health queries
 * a hundred channels cost, say. Everything passes through unchanged, at
 * once, unless `holdAnswers` says to keep some answers back: Consul then
 * acts on the request while its caller waits, as an agent with no leader
 * that takes a request after the caller gave up.
 */
export interface RecordedConsulRequest {
  readonly method: string;
  readonly path: string;
  readonly at: number;
}

interface HeldAnswers {
  readonly method: string;
  readonly pathPrefix: string;
  readonly ms: number;
}

export class CountingProxy {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly requests: readonly RecordedConsulRequest[],
    private readonly held: HeldAnswers[],
  ) {}

  static async start(consul: { readonly host: string; readonly port: number }): Promise<CountingProxy> {
    const requests: RecordedConsulRequest[] = [];
    const held: HeldAnswers[] = [];
    const server = createServer((incoming, outgoing) => {
      requests.push({ method: incoming.method ?? 'GET', path: incoming.url ?? '/', at: Date.now() });
      const hold = held.find((rule) => rule.method === incoming.method && (incoming.url ?? '').startsWith(rule.pathPrefix));
      const upstream = request(
        { host: consul.host, port: consul.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
        (answer) => {
          const pass = (): void => {
            if (outgoing.destroyed) return;
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(outgoing);
          };
          if (hold) setTimeout(pass, hold.ms).unref();
          else pass();
        },
      );
      upstream.on('error', () => outgoing.destroy());
      // The caller went away (a watch aborted its query): so does the upstream request.
      outgoing.on('close', () => {
        if (!outgoing.writableFinished) upstream.destroy();
      });
      incoming.pipe(upstream);
    });
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
    );
    return new CountingProxy(server, port, requests, held);
  }

  /** From now on, answers to `method` requests under `pathPrefix` reach their caller `ms` late. */
  holdAnswers(method: string, pathPrefix: string, ms: number): void {
    this.held.push({ method, pathPrefix, ms });
  }

  /** host:port to give a client instead of Consul's. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Requests whose path starts with `prefix` (e.g. "/v1/health/service/"). */
  count(prefix: string): number {
    return this.requests.filter((entry) => entry.path.startsWith(prefix)).length;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
