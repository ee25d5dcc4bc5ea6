import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';

/** A real hello server as its own OS process, so tests can SIGKILL, SIGTERM and SIGSTOP it. */
const SERVER_MAIN = fileURLToPath(new URL('../server/main.js', import.meta.url));

export interface HelloProcessOptions {
  readonly port: number;
  readonly consulAddress: string;
  readonly env?: Record<string, string>;
  /** Show the server's log lines on this process's stdout (make local) instead of keeping them. */
  readonly inheritOutput?: boolean;
  /** A process group of its own: a terminal's Ctrl-C then reaches only the supervisor, which stops it gracefully. */
  readonly detached?: boolean;
  /** Runs the server in this network namespace (`ip netns exec`, which execs: signals reach the server itself). */
  readonly netns?: string;
}

export class HelloProcess {
  readonly instanceId: string;
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    // The server's default id: service, host name, port.
    this.instanceId = `HelloService-${hostname()}-${port}`;
    const collect = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
  }

  static start(options: HelloProcessOptions): HelloProcess {
    const [command, args] = options.netns
      ? ['ip', ['netns', 'exec', options.netns, process.execPath, SERVER_MAIN]]
      : [process.execPath, [SERVER_MAIN]];
    const child = spawn(command, args, {
      env: {
        ...process.env,
        PORT: String(options.port),
        // In a namespace of its own the server finds its address on its route to Consul.
        ADVERTISE_ADDRESS: options.netns ? '' : '127.0.0.1',
        CONSUL_HTTP_ADDR: options.consulAddress,
        // Loopback only, unless it lives in a namespace of its own.
        BIND_ADDRESS: options.netns ? '0.0.0.0' : '127.0.0.1',
        LOG_LEVEL: 'info',
        // Tests read the server's log lines as JSON; make local passes its own choice.
        LOG_FORMAT: 'json',
        ...options.env,
      },
      detached: options.detached ?? false,
      stdio: ['ignore', options.inheritOutput ? 'inherit' : 'pipe', options.inheritOutput ? 'inherit' : 'pipe'],
    });
    return new HelloProcess(child, options.port);
  }

  get logs(): string {
    return this.output;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Resolves with the exit code (or signal) once the process is gone. */
  async waitForExit(): Promise<number | string> {
    if (!this.exited) await once(this.child, 'exit');
    return this.child.exitCode ?? this.child.signalCode ?? 'unknown';
  }

  /** Makes sure the process is gone: continues a stopped one, then kills it. */
  async dispose(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGCONT');
    this.child.kill('SIGKILL');
    await once(this.child, 'exit');
  }
}
