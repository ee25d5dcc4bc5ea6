import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from './free-port.js';

/**
 * A real Consul dev agent as a child process, for tests and `make local`, on
 * ports of its own (or a chosen HTTP port) so it never meets another agent. State is in memory: restart() gives a Consul that has
 * forgotten every registration, as a restarted dev agent does.
 */
export class ConsulAgent {
  private process: ChildProcess | undefined;
  private output = '';

  private constructor(
    private readonly binary: string,
    readonly httpPort: number,
    private readonly ports: { serfLan: number; server: number },
    private readonly clientAddresses: readonly string[],
  ) {}

  /**
   * `clientAddresses`: where the HTTP API listens besides 127.0.0.1, for
   * servers on another network namespace.
   */
  static async start(httpPort?: number, clientAddresses: readonly string[] = []): Promise<ConsulAgent> {
    const binary = process.env.CONSUL_BIN;
    if (!binary) throw new Error('CONSUL_BIN is not set: run through make (it builds or finds Consul and sets it)');
    const agent = new ConsulAgent(binary, httpPort ?? (await freePort()), { serfLan: await freePort(), server: await freePort() }, [
      '127.0.0.1',
      ...clientAddresses,
    ]);
    await agent.launch();
    return agent;
  }

  get address(): string {
    return `127.0.0.1:${this.httpPort}`;
  }

  get logs(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }

  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.launch();
  }

  private async launch(): Promise<void> {
    const args = [
      'agent',
      '-dev',
      '-bind=127.0.0.1',
      `-client=${this.clientAddresses.join(' ')}`,
      `-http-port=${this.httpPort}`,
      '-dns-port=-1',
      '-grpc-port=-1',
      '-grpc-tls-port=-1',
      `-serf-lan-port=${this.ports.serfLan}`,
      '-serf-wan-port=-1',
      `-server-port=${this.ports.server}`,
      '-log-level=warn',
    ];
    const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    const collect = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`consul exited with ${child.exitCode}:\n${this.output}`);
      try {
        const response = await fetch(`http://${this.address}/v1/status/leader`);
        if (response.ok && (await response.text()).length > 4) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`consul did not elect itself leader within 20 s:\n${this.output}`);
  }
}
