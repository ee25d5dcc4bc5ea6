import type Docker from 'dockerode';
import { DROP_RULES } from '../docker/docker-driver.js';

/**
 * A Docker engine in memory, in the shape of the dockerode calls the real
 * DockerDriver makes: containers filtered by label as the engine filters
 * them, stopped and started, and the netfault helper's iptables scripts
 * applied to the namespace of the container it joins. Tests drive the real
 * driver, its scope checks and its read-backs through it; every change
 * is logged in `calls`, in order, so a test can say what was touched and when.
 */
export interface FakeContainer {
  readonly id: string;
  readonly name: string;
  readonly labels: Record<string, string>;
  running: boolean;
  /** The DROP rules its network namespace holds. */
  dropping: boolean;
  /** After each start, how many inspections report its health `starting` before `healthy` (logged once it is). */
  startsSlowly: number;
  startingFor: number;
}

export class FakeEngine {
  readonly calls: string[] = [];
  private readonly containers = new Map<string, FakeContainer>();
  private helpers = 0;

  add(id: string, labels: Record<string, string>): FakeContainer {
    const container: FakeContainer = { id, name: id, labels, running: true, dropping: false, startsSlowly: 0, startingFor: 0 };
    this.containers.set(id, container);
    return container;
  }

  get(id: string): FakeContainer {
    const container = this.containers.get(id);
    if (!container) throw Object.assign(new Error(`no such container: ${id}`), { statusCode: 404 });
    return container;
  }

  /** As dockerode's Docker, for `new DockerDriver(scope, engine.docker(), image)`. */
  docker(): Docker {
    return {
      // Docker's label filter: every `key=value` given is a label the container carries.
      listContainers: async ({ filters }: { filters: { label: string[] } }) =>
        [...this.containers.values()]
          .filter((container) =>
            filters.label.every((pair) => Object.entries(container.labels).some(([key, value]) => pair === `${key}=${value}`)),
          )
          .map((container) => ({ Id: container.id })),
      getContainer: (id: string) => ({
        inspect: async () => this.inspect(this.get(id)),
        stop: async () => this.change(id, 'stop', (container) => (container.running = false)),
        start: async () =>
          this.change(id, 'start', (container) => {
            container.running = true;
            container.startingFor = container.startsSlowly;
          }),
        kill: async () => this.change(id, 'kill', (container) => (container.running = false)),
      }),
      createContainer: async ({ Cmd, HostConfig }: { Cmd: string[]; HostConfig: { NetworkMode: string } }) =>
        this.helper(HostConfig.NetworkMode.replace(/^container:/, ''), Cmd.at(-1) ?? ''),
    } as unknown as Docker;
  }

  private change(id: string, what: string, act: (container: FakeContainer) => void): void {
    const container = this.get(id);
    this.calls.push(`${what} ${id}`);
    act(container);
    // A restart starts a fresh network namespace: no rule survives it.
    if (!container.running) container.dropping = false;
  }

  private inspect(container: FakeContainer): Docker.ContainerInspectInfo {
    let health = container.running ? 'healthy' : 'unhealthy';
    if (container.running && container.startingFor > 0) {
      container.startingFor -= 1;
      health = 'starting';
      if (container.startingFor === 0) this.calls.push(`healthy ${container.id}`);
    }
    return {
      Id: container.id,
      Name: `/${container.name}`,
      Created: '2026-11-30T00:00:00Z',
      Config: { Labels: container.labels, Env: ['PORT=50051'], Hostname: container.id },
      State: {
        Status: container.running ? 'running' : 'exited',
        Running: container.running,
        Paused: false,
        StartedAt: '2026-11-30T00:00:01Z',
        Health: { Status: health },
      },
      NetworkSettings: { Networks: { lab: { IPAddress: `10.0.0.${[...this.containers.keys()].indexOf(container.id) + 2}` } } },
    } as unknown as Docker.ContainerInspectInfo;
  }

  /** The netfault helper: runs `script` (dropTraffic's, restoreTraffic's or `iptables -S`) in the target's namespace. */
  private helper(targetId: string, script: string) {
    const target = this.get(targetId);
    this.helpers += 1;
    const name = `netfault-${this.helpers}`;
    let output = '';
    return {
      start: async () => {
        if (script.includes('iptables -I')) {
          this.calls.push(`drop ${targetId}`);
          target.dropping = true;
        } else if (script.includes('iptables -D')) {
          this.calls.push(`restore ${targetId}`);
          target.dropping = false;
        } else if (script === 'iptables -S') {
          output = ['-P INPUT ACCEPT', ...(target.dropping ? DROP_RULES.map(({ chain, rule }) => `-A ${chain} ${rule}`) : [])].join('\n');
        } else {
          throw new Error(`${name}: an unexpected script: ${script}`);
        }
      },
      wait: async () => ({ StatusCode: 0 }),
      logs: async () => Buffer.from(output),
      remove: async () => undefined,
    };
  }
}
