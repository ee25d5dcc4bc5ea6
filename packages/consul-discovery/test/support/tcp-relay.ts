import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay on loopback to one address: it counts the connections it
 * accepts (how many connections clients open to a backend behind it), and it
 * can be cut and restored on the same port (a Consul that goes away and
 * comes back with its state, as its clients see it).
 */
export class TcpRelay {
  /** Connections accepted since start. */
  accepted = 0;
  private server: Server | undefined;
  private readonly open = new Set<Socket>();
  private readonly clients = new Set<Socket>();

  private constructor(
    private readonly to: { readonly host: string; readonly port: number },
    private listeningPort: number,
  ) {}

  static async start(to: { readonly host: string; readonly port: number }): Promise<TcpRelay> {
    const relay = new TcpRelay(to, 0);
    await relay.restore();
    return relay;
  }

  /** Client connections open now (the client has not closed its socket). */
  get openConnections(): number {
    return this.clients.size;
  }

  get port(): number {
    return this.listeningPort;
  }

  get address(): string {
    return `127.0.0.1:${this.listeningPort}`;
  }

  /** Accepts connections again, on the port it had. */
  async restore(): Promise<void> {
    const server = createServer((client) => {
      this.accepted += 1;
      this.clients.add(client);
      client.on('close', () => this.clients.delete(client));
      const upstream = connect(this.to.port, this.to.host);
      for (const socket of [client, upstream]) {
        this.open.add(socket);
        socket.on('close', () => this.open.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listeningPort, '127.0.0.1', () => resolve());
    });
    this.listeningPort = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Refuses new connections and drops the open ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.open) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
