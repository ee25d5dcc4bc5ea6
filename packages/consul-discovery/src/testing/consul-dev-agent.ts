import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * A real Consul dev agent as a child process, for integration tests and
 * local demos, on ports of its own so it never meets another agent. State is
 * in memory: restart() gives a Consul that has forgotten every registration,
 * as a restarted dev agent does.
 */
export interface ConsulDevAgentOptions {
  /** The consul binary; default $CONSUL_BIN, else `consul` on PATH. */
  readonly binary?: string;
  /** HTTP port; default a free one. */
  readonly httpPort?: number;
  /** Where the HTTP API listens besides 127.0.0.1 (for servers in another network namespace, say). */
  readonly clientAddresses?: readonly string[];
  /** Extra agent arguments, e.g. ['-hcl', 'acl { enabled = true }']. */
  readonly args?: readonly string[];
  /** The agent's datacenter (Consul's default: dc1); its node is named after it, so agents of several datacenters tell apart. */
  readonly datacenter?: string;
  /**
   * WAN gossip on a port of its own (`wanAddress`), for federating
   * datacenters; `joinWan` names other agents' wanAddress to join (retried,
   * as `-retry-join-wan`). Off by default: a lone agent meets no other.
   */
  readonly wan?: boolean;
  readonly joinWan?: readonly string[];
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class ConsulDevAgent {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    private readonly binary: string,
    readonly httpPort: number,
    private readonly ports: { readonly serfLan: number; readonly serfWan: number; readonly server: number },
    private readonly options: ConsulDevAgentOptions,
  ) {}

  static async start(options: ConsulDevAgentOptions = {}): Promise<ConsulDevAgent> {
    const binary = options.binary ?? process.env.CONSUL_BIN ?? 'consul';
    const agent = new ConsulDevAgent(
      binary,
      options.httpPort ?? (await freePort()),
      { serfLan: await freePort(), serfWan: options.wan || options.joinWan ? await freePort() : -1, server: await freePort() },
      options,
    );
    await agent.launch();
    return agent;
  }

  /** host:port of the HTTP API on loopback. */
  get address(): string {
    return `127.0.0.1:${this.httpPort}`;
  }

  /** host:port of WAN gossip (with `wan`), for another datacenter's agent to join. */
  get wanAddress(): string {
    return `127.0.0.1:${this.ports.serfWan}`;
  }

  /** SIGSTOP: the agent holds every connection and answers nothing, as one behind a partition that drops packets. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT after freeze(): it answers what it was asked meanwhile. */
  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  get logs(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }

  /** Stops the agent, waits `downMs`, starts it again with nothing registered. */
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
      `-client=${['127.0.0.1', ...(this.options.clientAddresses ?? [])].join(' ')}`,
      `-http-port=${this.httpPort}`,
      '-dns-port=-1',
      '-grpc-port=-1',
      '-grpc-tls-port=-1',
      `-serf-lan-port=${this.ports.serfLan}`,
      `-serf-wan-port=${this.ports.serfWan}`,
      ...(this.options.datacenter !== undefined
        ? [`-datacenter=${this.options.datacenter}`, `-node=${this.options.datacenter}-${this.httpPort}`]
        : []),
      ...(this.options.joinWan ?? []).map((address) => `-retry-join-wan=${address}`),
      `-server-port=${this.ports.server}`,
      '-log-level=warn',
      ...(this.options.args ?? []),
    ];
    const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const collect = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const spawned = new Promise<Error | undefined>((resolve) => {
      child.once('error', resolve);
      child.once('spawn', () => resolve(undefined));
    });
    const spawnError = await spawned;
    if (spawnError) throw new Error(`cannot run ${this.binary}: ${spawnError.message} (set CONSUL_BIN or put consul on PATH)`);
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
