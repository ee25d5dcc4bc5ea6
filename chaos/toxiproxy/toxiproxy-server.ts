import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { pollUntil } from '../../packages/runtime/poll.js';
import { ToxiproxyApi, ToxiproxyError } from './toxiproxy-api.js';

export interface ToxiproxyServerOptions {
  /** toxiproxy-server; default $TOXIPROXY_BIN (scripts/ensure-toxiproxy.sh prints it), else on PATH. */
  readonly binary?: string;
  /** The API's address; default 127.0.0.1. */
  readonly host?: string;
  /** The API's port; default a free one. */
  readonly port?: number;
  /** Runs it in this network namespace (`ip netns exec`, which execs: signals reach it); `host` is then an address of that namespace. */
  readonly netns?: string;
  /** How long it may take to answer once started. */
  readonly startTimeoutMs?: number;
}

/**
 * A toxiproxy-server process on this machine, its API on loopback, for the
 * tests, the bench and local runs; in the stack it runs beside an instance
 * instead (README.md). Started, it answers; stopped, its proxies are gone.
 */
export class ToxiproxyServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly api: ToxiproxyApi,
    private readonly output: () => string,
  ) {}

  static async start(options: ToxiproxyServerOptions = {}): Promise<ToxiproxyServer> {
    const binary = options.binary ?? process.env.TOXIPROXY_BIN ?? 'toxiproxy-server';
    const host = options.host ?? '127.0.0.1';
    // A free port here; a namespace made for a test has every port free.
    const port = options.port ?? (await freePort(options.netns ? '127.0.0.1' : host));
    const args = ['-host', host, '-port', String(port)];
    const [command, argv] = options.netns ? ['ip', ['netns', 'exec', options.netns, binary, ...args]] : [binary, args];
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let spawnError: Error | undefined;
    child.once('error', (error) => (spawnError = error));
    const server = new ToxiproxyServer(child, new ToxiproxyApi(`http://${host}:${port}`), () => output);
    const answered = await pollUntil(
      async () => {
        if (spawnError)
          throw new Error(`cannot run ${binary}: ${spawnError.message} (set TOXIPROXY_BIN: scripts/ensure-toxiproxy.sh | tail -n 1)`);
        if (child.exitCode !== null) throw new Error(`${binary} exited with ${child.exitCode}: ${output.trim().split('\n').pop() ?? ''}`);
        return server.api.version().catch((error: unknown) => (error instanceof ToxiproxyError ? undefined : Promise.reject(error)));
      },
      { timeoutMs: options.startTimeoutMs ?? 10_000, everyMs: 50 },
    );
    if (answered === undefined) {
      await server.stop();
      throw new Error(`${binary} did not answer on ${server.api.url} within ${options.startTimeoutMs ?? 10_000} ms`);
    }
    return server;
  }

  /** Its log so far (the last few KB), for a failing test's message. */
  get log(): string {
    return this.output();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** A port nobody listens on now (the OS's choice); the server binds it a moment later. */
async function freePort(host: string): Promise<number> {
  const probe = createServer();
  probe.listen(0, host);
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  if (address === null || typeof address === 'string') throw new Error('no port from the OS');
  return address.port;
}
