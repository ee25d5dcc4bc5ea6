import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A stand-in for Consul's health endpoint, for what a real agent cannot be
 * made to do on demand: an index that goes backwards or is 0, garbage
 * bodies, 500s, a query that never answers. Each request is recorded with
 * its query parameters and headers; `answer` decides the reply to the n-th request.
 */
export interface DoubleAnswer {
  readonly status?: number;
  readonly index?: number;
  /** Instances as [id, port]; or a raw body string. */
  readonly instances?: readonly (readonly [string, number])[];
  readonly body?: string;
  /** Never answer this request. */
  readonly hang?: boolean;
  /** Answer after this long: a blocking query that returns when the index moves. */
  readonly delayMs?: number;
}

export interface RecordedRequest {
  readonly at: number;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
}

export class ConsulDouble {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly requests: readonly RecordedRequest[],
    /** Connections open now: a query in flight keeps one. */
    readonly openSockets: ReadonlySet<Socket>,
  ) {}

  static async start(answer: (n: number, request: RecordedRequest) => DoubleAnswer): Promise<ConsulDouble> {
    const requests: RecordedRequest[] = [];
    const openSockets = new Set<Socket>();
    const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
      const url = new URL(incoming.url ?? '/', 'http://double');
      const recorded = { at: Date.now(), path: url.pathname, query: url.searchParams, headers: incoming.headers };
      requests.push(recorded);
      const reply = answer(requests.length, recorded);
      if (reply.hang) return;
      const body =
        reply.body ??
        JSON.stringify(
          (reply.instances ?? []).map(([id, port]) => ({
            Node: { Node: 'double', Address: '127.0.0.1' },
            Service: { ID: id, Address: '127.0.0.1', Port: port, Tags: [], Meta: {} },
          })),
        );
      const status = reply.status ?? 200;
      // As Consul does: JSON when it answers, plain text when it fails.
      const send = (): void => {
        outgoing
          .writeHead(status, {
            'content-type': status < 300 ? 'application/json' : 'text/plain',
            'x-consul-index': String(reply.index ?? 1),
          })
          .end(body);
      };
      if (reply.delayMs === undefined) send();
      else setTimeout(send, reply.delayMs);
    });
    server.on('connection', (socket: Socket) => {
      openSockets.add(socket);
      socket.on('close', () => openSockets.delete(socket));
    });
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
    );
    return new ConsulDouble(server, port, requests, openSockets);
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
