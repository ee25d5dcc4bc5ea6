import type Docker from 'dockerode';
import { DROP_RULES, PACKET_LOSS_COMMENT } from '../docker/docker-driver.js';
import type { LimitsUpdate } from '../docker/resource-limits.js';

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
  /** The probability its namespace's packet-loss rules drop with, as written; undefined without them. */
  losing: number | undefined;
  /** Its HostConfig limits, changed by `docker update` as Docker merges one (zeros ignored). */
  readonly limits: { -readonly [Field in keyof LimitsUpdate]-?: number };
  /** What its cgroup charges, and what the kernel does to a memory limit below that: OOM-kill (cgroup v2) or refuse (v1, EBUSY). */
  memoryUsage: number;
  belowUsage: 'oom-kill' | 'refuse';
  oomKilled: boolean;
  /** After each start, how many inspections report its health `starting` before `healthy` (logged once it is). */
  startsSlowly: number;
  startingFor: number;
  /** When Docker made it (all at one time unless a test says otherwise). */
  created?: string;
  /** Its mounts: where, which volume, and how (a named volume, or a bind of its directory). */
  readonly mounts: { readonly destination: string; readonly volume: string; readonly type: string }[];
}

/** A volume as `docker volume inspect` shows it, and what its filesystem holds (a tmpfs of `sizeBytes` when sized). */
export interface FakeVolume {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly driver: string;
  readonly options: Record<string, string>;
  readonly sizeBytes: number;
  /** What the container's own files take. */
  readonly usedBytes: number;
  /** What the helper's statfs says the filesystem is: a tmpfs, or the host's disk (a volume made again by a mount). */
  readonly filesystem?: 'tmpfs' | 'ext2/ext3';
  /** dd fails otherwise than on a full disk (as it would without the right to write there). */
  readonly ddRefused?: boolean;
  /** What the volume helpers' file takes: written until the filesystem is full, removed by `rm`. */
  fillerBytes: number;
}

/** The block size the volume helper's statfs reports. */
const BLOCK = 4096;

export class FakeEngine {
  readonly calls: string[] = [];
  private readonly containers = new Map<string, FakeContainer>();
  private readonly volumes = new Map<string, FakeVolume>();
  /** How many times a volume was inspected. */
  volumeInspections = 0;
  private helpers = 0;

  add(id: string, labels: Record<string, string>): FakeContainer {
    const container: FakeContainer = {
      id,
      name: id,
      labels,
      running: true,
      dropping: false,
      losing: undefined,
      // As docker-compose.yml's limits leave a hello instance: 256m (swap twice that, Docker's default), no CPU limit.
      limits: { NanoCpus: 0, CpuQuota: 0, CpuPeriod: 0, Memory: 256 * 2 ** 20, MemorySwap: 512 * 2 ** 20 },
      memoryUsage: 38 * 2 ** 20,
      belowUsage: 'oom-kill',
      oomKilled: false,
      startsSlowly: 0,
      startingFor: 0,
      mounts: [],
    };
    this.containers.set(id, container);
    return container;
  }

  /** A volume mounted at `destination` in container `id`, as a named volume unless `type` says otherwise. */
  addVolume(id: string, destination: string, volume: Omit<FakeVolume, 'fillerBytes'>, type = 'volume'): FakeVolume {
    const added = { ...volume, fillerBytes: 0 };
    this.volumes.set(volume.name, added);
    this.get(id).mounts.push({ destination, volume: volume.name, type });
    return added;
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
            container.oomKilled = false;
          }),
        kill: async () => this.change(id, 'kill', (container) => (container.running = false)),
        update: async (update: LimitsUpdate) => this.update(this.get(id), update),
        stats: async () => ({ memory_stats: { usage: this.get(id).memoryUsage } }),
      }),
      getVolume: (name: string) => ({
        inspect: async () => {
          this.volumeInspections += 1;
          const volume = this.volumes.get(name);
          if (!volume) throw Object.assign(new Error(`no such volume: ${name}`), { statusCode: 404 });
          return { Name: name, Driver: volume.driver, Options: volume.options, Labels: volume.labels };
        },
      }),
      createContainer: async ({
        Cmd,
        HostConfig,
        User,
        Env,
      }: {
        Cmd: string[];
        HostConfig: { NetworkMode: string; Mounts?: { Source: string; Target: string }[] };
        User?: string;
        Env?: string[];
      }) =>
        HostConfig.NetworkMode === 'none'
          ? volumeHelperOf(this, this.volumes.get(HostConfig.Mounts?.[0]?.Source ?? ''), { script: Cmd.at(-1) ?? '', User, Env })
          : this.helper(HostConfig.NetworkMode.replace(/^container:/, ''), Cmd.at(-1) ?? ''),
    } as unknown as Docker;
  }

  private change(id: string, what: string, act: (container: FakeContainer) => void): void {
    const container = this.get(id);
    this.calls.push(`${what} ${id}`);
    act(container);
    // A restart starts a fresh network namespace: no rule survives it.
    if (!container.running) {
      container.dropping = false;
      container.losing = undefined;
    }
  }

  /** `docker update` as moby's UpdateContainer merges it: its conflicts, in its words; a zero changes nothing. */
  private update(container: FakeContainer, update: LimitsUpdate): void {
    const had = container.limits;
    const conflicts: [boolean, string][] = [
      [(update.NanoCpus ?? 0) > 0 && had.CpuPeriod > 0, 'Nano CPUs cannot be updated as CPU Period has already been set'],
      [(update.NanoCpus ?? 0) > 0 && had.CpuQuota > 0, 'Nano CPUs cannot be updated as CPU Quota has already been set'],
      [(update.CpuPeriod ?? 0) > 0 && had.NanoCpus > 0, 'CPU Period cannot be updated as NanoCPUs has already been set'],
      [(update.CpuQuota ?? 0) > 0 && had.NanoCpus > 0, 'CPU Quota cannot be updated as NanoCPUs has already been set'],
    ];
    const conflict = conflicts.find(([yes]) => yes);
    if (conflict) throw Object.assign(new Error(`Conflicting options: ${conflict[1]}`), { statusCode: 409 });
    const below = update.Memory !== undefined && update.Memory < container.memoryUsage && container.running;
    if (below && container.belowUsage === 'refuse') {
      throw new Error(
        `Cannot update container ${container.id}: failed to write ${update.Memory} to memory.limit_in_bytes: device or resource busy`,
      );
    }
    this.calls.push(`update ${container.id} ${JSON.stringify(update)}`);
    for (const [key, value] of Object.entries(update) as [keyof LimitsUpdate, number][]) if (value !== 0) container.limits[key] = value;
    if (below) {
      this.calls.push(`oom-kill ${container.id}`);
      container.running = false;
      container.oomKilled = true;
      container.dropping = false;
      container.losing = undefined;
    }
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
      Created: container.created ?? '2026-11-30T00:00:00Z',
      Config: { Labels: container.labels, Env: ['PORT=50051'], Hostname: container.id },
      State: {
        Status: container.running ? 'running' : 'exited',
        Running: container.running,
        Paused: false,
        OOMKilled: container.oomKilled,
        StartedAt: '2026-11-30T00:00:01Z',
        Health: { Status: health },
      },
      HostConfig: { ...container.limits },
      Mounts: container.mounts.map(({ destination, volume, type }) => ({ Type: type, Name: volume, Destination: destination })),
      NetworkSettings: { Networks: { lab: { IPAddress: `10.0.0.${[...this.containers.keys()].indexOf(container.id) + 2}` } } },
    } as unknown as Docker.ContainerInspectInfo;
  }

  /**
   * The netfault helper: runs `script` (dropTraffic's, restoreTraffic's,
   * losePackets', stopLosingPackets' or `iptables -S`) in the target's namespace.
   */
  private helper(targetId: string, script: string) {
    const target = this.get(targetId);
    this.helpers += 1;
    const name = `netfault-${this.helpers}`;
    let output = '';
    return {
      start: async () => {
        if (script.includes('--mode random')) {
          const [, probability] = /--probability (\S+)/.exec(script) ?? [];
          this.calls.push(`lose ${targetId} ${probability}`);
          target.losing = Number(probability);
        } else if (script.includes(PACKET_LOSS_COMMENT)) {
          this.calls.push(`stop losing ${targetId}`);
          target.losing = undefined;
        } else if (script.includes('iptables -I')) {
          this.calls.push(`drop ${targetId}`);
          target.dropping = true;
        } else if (script.includes('iptables -D')) {
          this.calls.push(`restore ${targetId}`);
          target.dropping = false;
        } else if (script === 'iptables -S') {
          output = [
            '-P INPUT ACCEPT',
            ...lossListed(target.losing),
            ...(target.dropping ? DROP_RULES.map(({ chain, rule }) => `-A ${chain} ${rule}`) : []),
          ].join('\n');
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

/**
 * The volume helper (DockerDriver.fillVolume, volumeSpace,
 * removeFromVolume), as the driver must run it: as nobody, its file named in
 * $FILE and nowhere else, the tmpfs guard first (exit 3 on a filesystem that
 * is no tmpfs, as a volume made again on the host's disk would be). Then dd
 * fills what the filesystem has left, stat -f reports it, rm takes the
 * filler away. Each change is logged with the file it touched.
 */
function volumeHelperOf(
  engine: { calls: string[] },
  volume: FakeVolume | undefined,
  { script, User, Env }: { readonly script: string; readonly User: string | undefined; readonly Env: string[] | undefined },
) {
  if (!volume) throw new Error(`a volume helper without a volume: ${script}`);
  if (User !== '65534') throw new Error(`a volume helper run as ${User ?? 'root'}, not nobody`);
  const file = Env?.find((entry) => entry.startsWith('FILE='))?.slice('FILE='.length) ?? '';
  const [guard, ...rest] = script.split('\n').filter((line) => !line.startsWith('[ "$1" = tmpfs ]'));
  const command = rest.join('\n');
  if (!guard?.startsWith('set -- $(stat -f')) throw new Error(`a volume helper without the tmpfs guard first: ${script}`);
  let output = '';
  let status = 0;
  return {
    start: async () => {
      if ((volume.filesystem ?? 'tmpfs') !== 'tmpfs') {
        output = `/volume is ${volume.filesystem ?? ''} of 1000 blocks of 4096 bytes, not a tmpfs of at most 1073741824 bytes`;
        status = 3;
      } else if (command.includes('dd if=/dev/zero of="/volume/$FILE"')) {
        if (volume.ddRefused) {
          output = `dd: failed to open '/volume/${file}': Permission denied`;
          status = 1;
          return;
        }
        engine.calls.push(`fill ${volume.name}/${file}`);
        volume.fillerBytes = volume.sizeBytes - volume.usedBytes;
      } else if (command.startsWith("stat -f -c '%a %b %S' /volume")) {
        const available = Math.floor((volume.sizeBytes - volume.usedBytes - volume.fillerBytes) / BLOCK);
        output = `${available} ${Math.floor(volume.sizeBytes / BLOCK)} ${BLOCK}\n${volume.fillerBytes}`;
      } else if (command === 'rm -f "/volume/$FILE"') {
        engine.calls.push(`empty ${volume.name}/${file}`);
        volume.fillerBytes = 0;
      } else {
        throw new Error(`volume helper: an unexpected script: ${script}`);
      }
    },
    wait: async () => ({ StatusCode: status }),
    logs: async () => Buffer.from(output),
    remove: async () => undefined,
  };
}

/**
 * packet-loss's rules as iptables 1.8 lists them: the probability as the
 * kernel keeps it (a 31-bit fraction, printed to 11 places), not as written.
 */
function lossListed(probability: number | undefined): string[] {
  if (probability === undefined) return [];
  const kept = (Math.round(probability * 0x80000000) / 0x80000000).toFixed(11);
  const rule = `-m statistic --mode random --probability ${kept} -m comment --comment ${PACKET_LOSS_COMMENT} -j DROP`;
  return [`-A INPUT ! -i lo ${rule}`, `-A OUTPUT ! -o lo ${rule}`];
}
