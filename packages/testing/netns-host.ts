import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A host of its own on this machine: a network namespace joined to ours by a
 * veth pair, so a test can change a running server's address the way a
 * container reconnected to its network, or a host given a new lease, sees it.
 * Needs root and iproute2 (the tests run as root, as CI does).
 */
export class NetnsHost {
  private constructor(
    readonly name: string,
    private readonly hostLink: string,
    private readonly innerLink: string,
    private readonly subnet: string,
    private current: string,
  ) {}

  /** The address this side uses to reach the namespace's host. */
  get gateway(): string {
    return `${this.subnet}.1`;
  }

  get address(): string {
    return this.current;
  }

  static async create(): Promise<NetnsHost> {
    if (process.getuid?.() !== 0) throw new Error('NetnsHost needs root (ip netns); run the tests as root, as CI does');
    const tag = `${process.pid % 10_000}${Math.floor(Math.random() * 100)}`;
    const subnet = `10.213.${process.pid % 250}`;
    const host = new NetnsHost(`gcl-test-${tag}`, `gclh${tag}`, `gcln${tag}`, subnet, `${subnet}.2`);
    await run('ip', ['netns', 'add', host.name]);
    try {
      await run('ip', ['link', 'add', host.hostLink, 'type', 'veth', 'peer', 'name', host.innerLink]);
      await run('ip', ['link', 'set', host.innerLink, 'netns', host.name]);
      await run('ip', ['addr', 'add', `${host.gateway}/24`, 'dev', host.hostLink]);
      await run('ip', ['link', 'set', host.hostLink, 'up']);
      await host.inside(['addr', 'add', `${host.current}/24`, 'dev', host.innerLink]);
      await host.inside(['link', 'set', host.innerLink, 'up']);
      await host.inside(['link', 'set', 'lo', 'up']);
    } catch (error) {
      await host.dispose();
      throw error;
    }
    return host;
  }

  /** Gives the namespace's interface `last` (x.y.z.<last>) instead of its current address. */
  async moveTo(last: number): Promise<string> {
    const next = `${this.subnet}.${last}`;
    // Old one first: deleting a primary address also deletes its secondaries.
    await this.inside(['addr', 'del', `${this.current}/24`, 'dev', this.innerLink]);
    await this.inside(['addr', 'add', `${next}/24`, 'dev', this.innerLink]);
    this.current = next;
    return next;
  }

  async dispose(): Promise<void> {
    // Deleting the namespace deletes its end of the veth pair, and so both ends.
    await run('ip', ['netns', 'del', this.name]).catch(() => undefined);
    await run('ip', ['link', 'del', this.hostLink]).catch(() => undefined);
  }

  private async inside(args: string[]): Promise<void> {
    await run('ip', ['netns', 'exec', this.name, 'ip', ...args]);
  }
}
