import Docker from 'dockerode';
import { netfaultImage } from './chosen-images.js';
import { type Redirect, redirectRule, resetEstablished } from '../toxiproxy/redirect.js';
import type { Limits, LimitsUpdate } from './resource-limits.js';
import { CHAOS_TARGET_LABEL, DATACENTER_LABEL, isInScope, ROLE_LABEL, SWARM_SERVICE_LABEL, type TargetScope } from './labels.js';
import { pollUntil } from '../../packages/runtime/poll.js';
import { HELLO_SERVICE_NAME } from '../../packages/contracts/hello.js';

/**
 * Every fault the runner can cause, through the Docker Engine API. Each call
 * re-reads the container and refuses one that is not a labelled target in
 * the chosen scope, even when it was named explicitly.
 */
export type Role = 'hello' | 'consul';

export interface TargetContainer {
  readonly containerId: string;
  readonly name: string;
  readonly role: Role;
  readonly state: string;
  readonly createdAt: number;
  /** When it last started (epoch ms; NaN when it never ran): a restart reads back as a later start. */
  readonly startedAt: number;
  readonly ip: string;
  readonly port: number;
  /** The id the instance registers in Consul and the client counts calls under. */
  readonly instanceId: string;
  readonly networks: readonly string[];
  /** The Swarm service a task container belongs to ('' outside Swarm). */
  readonly swarmService: string;
  /** Its datacenter label (PROFILE=multi-dc: dc1, dc2); '' when it has none. */
  readonly datacenter: string;
}

export class RefusedTargetError extends Error {}

const SERVICE_NAME = HELLO_SERVICE_NAME;

function envValue(env: readonly string[] | undefined, key: string): string | undefined {
  return env?.find((entry) => entry.startsWith(`${key}=`))?.slice(key.length + 1);
}

// Everything but loopback, both ways: peers see timeouts, as in a real
// partition, and the container keeps its interface and its address.
export const DROP_RULES = [
  { chain: 'INPUT', rule: '! -i lo -j DROP' },
  { chain: 'OUTPUT', rule: '! -o lo -j DROP' },
];

/**
 * packet-loss's rules carry this comment: `iptables -S` tells them from
 * partition's, and their undo finds them whatever probability they drop with.
 * Letters and dashes only, so iptables lists it unquoted and a listed rule
 * can be handed back to iptables word by word.
 */
export const PACKET_LOSS_COMMENT = 'grpc-consul-lab-packet-loss';
const PACKET_LOSS_CHAINS = [
  { chain: 'INPUT', notLoopback: '! -i lo' },
  { chain: 'OUTPUT', notLoopback: '! -o lo' },
] as const;

/** A packet-loss rule as `iptables -S` lists it: the chain, and the probability the kernel keeps (2^-31 steps). */
export interface PacketLossRule {
  readonly chain: string;
  readonly probability: number;
}

/** A running or paused container has a network namespace; one stopped or gone has none (a start makes a fresh one). */
export function hasNetworkNamespace(state: string): boolean {
  return state === 'running' || state === 'paused';
}

/** On a Toxiproxy sidecar: the id of the container whose network namespace it runs in. */
const TOXIPROXY_FOR_LABEL = 'grpc-consul-lab.toxiproxy-for';
/** Where a sidecar's Toxiproxy API listens, on its target's address. */
const TOXIPROXY_API_PORT = 8474;

/** What a container started like another has that the other has not. */
export interface StartDifferences {
  readonly env?: readonly string[];
  readonly mounts?: readonly Docker.MountSettings[];
}

/** Where clock-skew's libfaketime is, in the netfault image and in the volume it is copied to. */
const FAKETIME_LIBRARY = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';
export const FAKETIME_MOUNT = '/opt/faketime';
/** The library as a container that mounts the volume at FAKETIME_MOUNT preloads it. */
export const FAKETIME_PRELOAD = `${FAKETIME_MOUNT}/${FAKETIME_LIBRARY.split('/').at(-1) ?? ''}`;

/**
 * A volume of the scope that is a filesystem of its own, of a set size (a
 * tmpfs volume with `size=`, as docker-compose.consul-data-size.yml makes
 * Consul's data): filling it fills that size, never this machine's disk.
 */
export interface SizedVolume {
  readonly name: string;
  readonly sizeBytes: number;
}

/** What a sized volume's filesystem has free, and how much of it a file takes (0 when the file is not there). */
export interface VolumeSpace {
  readonly availableBytes: number;
  readonly totalBytes: number;
  readonly fileBytes: number;
}

/** Where the volume helpers see the volume they work on. */
const VOLUME_MOUNT = '/volume';
/**
 * The uid the volume helpers run as (nobody): the owner of nothing on the
 * volume, so its sticky, world-writable root lets it add a file and remove
 * only its own, never one of Consul's.
 */
const VOLUME_HELPER_USER = '65534';
/** The largest sized volume: what a full tmpfs takes of memory (scripts/check-settings.sh allows up to 1g). */
const MAX_SIZED_VOLUME_BYTES = 2 ** 30;
/** A file the volume helpers write or remove: a plain name in the volume's root, never a path or a pattern. */
const PLAIN_FILE_NAME = /^[A-Za-z0-9._-]+$/;
const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };

/**
 * The size a tmpfs's mount options set, read as the kernel reads them (the
 * last `size=` counts): undefined without one, for a percentage of memory,
 * for `nr_blocks=` (another way to say it), and for 0, which means no limit.
 */
export function tmpfsSizeBytes(options: string): number | undefined {
  const fields = options.split(',');
  if (fields.some((field) => field.startsWith('nr_blocks='))) return undefined;
  const size = /^size=(\d+)([kmg]?)$/.exec(fields.filter((field) => field.startsWith('size=')).at(-1) ?? '');
  const bytes = size ? Number(size[1]) * (SIZE_UNITS[size[2] ?? ''] ?? 0) : 0;
  return bytes > 0 ? bytes : undefined;
}

/**
 * Run first by every volume helper, in the helper itself: the volume it has
 * is a tmpfs of 1 byte to MAX_SIZED_VOLUME_BYTES, so whatever happened since
 * it was inspected (a volume removed and made again by this very mount, on
 * the host's disk), nothing is written anywhere else.
 */
const SIZED_TMPFS_GUARD = [
  `set -- $(stat -f -c '%T %b %S' ${VOLUME_MOUNT})`,
  `[ "$1" = tmpfs ] && [ "$2" -gt 0 ] && [ $(($2 * $3)) -le ${MAX_SIZED_VOLUME_BYTES} ] || { echo "${VOLUME_MOUNT} is $1 of $2 blocks of $3 bytes, not a tmpfs of at most ${MAX_SIZED_VOLUME_BYTES} bytes"; exit 3; }`,
].join('\n');

/** The connections established to a port in a namespace, by where they come from. */
export interface PortConnections {
  /** From loopback: in that namespace, such as Toxiproxy's to its upstream. */
  readonly local: number;
  /** From another address: callers reaching the port without the proxy. */
  readonly remote: number;
}

const PACKET_LOSS_LISTED = new RegExp(`^-A (\\S+) .*--probability (\\S+) .*--comment ${PACKET_LOSS_COMMENT} -j DROP$`);

export class DockerDriver {
  private replacements = 0;

  constructor(
    readonly scope: TargetScope,
    private readonly docker: Docker = new Docker(),
    /** The helper image with iptables that cuts a container's traffic; by default, as make up recorded it (read when first needed). */
    private readonly netfaultImage?: string,
  ) {}

  /** The labelled containers of the scope, oldest first; `role` narrows them. */
  async targets(role?: Role): Promise<TargetContainer[]> {
    const listed = await this.docker.listContainers({
      all: true,
      filters: { label: [`${CHAOS_TARGET_LABEL}=true`, `${this.scope.label}=${this.scope.value}`] },
    });
    const found = await Promise.all(listed.map((entry) => this.describe(entry.Id)));
    return found
      .filter((target) => !role || target.role === role)
      .sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
  }

  /** Inspects a container and refuses it unless it is a labelled target of this scope. */
  async describe(containerId: string): Promise<TargetContainer> {
    const info = await this.docker.getContainer(containerId).inspect();
    if (!isInScope(info.Config.Labels, this.scope)) {
      throw new RefusedTargetError(
        `refused: container ${info.Name.replace(/^\//, '')} does not carry ${CHAOS_TARGET_LABEL}=true and ${this.scope.label}=${this.scope.value}`,
      );
    }
    // The default bridge is where testcontainers parks a container before
    // joining it to the run's network; the instance serves on the other one.
    const networks = Object.entries(info.NetworkSettings.Networks ?? {}).sort(
      ([a], [b]) => Number(a === 'bridge') - Number(b === 'bridge'),
    );
    const ip = networks[0]?.[1].IPAddress ?? '';
    const port = Number(envValue(info.Config.Env, 'PORT') ?? 50051);
    const role = info.Config.Labels[ROLE_LABEL] === 'consul' ? 'consul' : 'hello';
    return {
      containerId: info.Id,
      name: info.Name.replace(/^\//, ''),
      role,
      state: info.State.Paused ? 'paused' : info.State.Status,
      createdAt: Date.parse(info.Created),
      startedAt: Date.parse(info.State.StartedAt),
      ip,
      port,
      // The server's default id: service, host name (the container's), port.
      instanceId: `${SERVICE_NAME}-${info.Config.Hostname}-${port}`,
      networks: networks.map(([name]) => name),
      swarmService: info.Config.Labels[SWARM_SERVICE_LABEL] ?? '',
      datacenter: info.Config.Labels[DATACENTER_LABEL] ?? '',
    };
  }

  async kill(target: TargetContainer, signal: string): Promise<void> {
    await this.describe(target.containerId);
    await this.docker.getContainer(target.containerId).kill({ signal });
  }

  async stop(target: TargetContainer, timeoutMs: number): Promise<void> {
    await this.describe(target.containerId);
    await this.docker
      .getContainer(target.containerId)
      .stop({ t: Math.ceil(timeoutMs / 1_000) })
      .catch(ignoreNotModified);
  }

  async start(target: TargetContainer): Promise<void> {
    await this.describe(target.containerId);
    await this.docker.getContainer(target.containerId).start().catch(ignoreNotModified);
  }

  async remove(target: TargetContainer): Promise<void> {
    await this.describe(target.containerId);
    await this.docker.getContainer(target.containerId).remove({ force: true, v: true });
  }

  async pause(target: TargetContainer): Promise<void> {
    await this.describe(target.containerId);
    try {
      await this.docker.getContainer(target.containerId).pause();
    } catch (error) {
      // runc's cgroup freeze can time out while the container's processes are
      // busy ("OCI runtime pause failed: unable to freeze"; seen once in a full
      // test run on 2 loaded cores). Freezing is the fault asked for: one more
      // try, half a second later; a second failure is the step's failure.
      if (!/unable to freeze/.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
      await this.docker.getContainer(target.containerId).pause();
    }
  }

  async unpause(target: TargetContainer): Promise<void> {
    const current = await this.describe(target.containerId);
    if (current.state === 'paused') await this.docker.getContainer(target.containerId).unpause();
  }

  async disconnect(target: TargetContainer, network: string): Promise<void> {
    await this.describe(target.containerId);
    await this.docker.getNetwork(network).disconnect({ Container: target.containerId, Force: true });
  }

  async reconnect(target: TargetContainer, network: string, aliases: readonly string[]): Promise<void> {
    const current = await this.describe(target.containerId);
    if (current.networks.includes(network)) return;
    await this.docker.getNetwork(network).connect({ Container: target.containerId, EndpointConfig: { Aliases: [...aliases] } });
  }

  /** Drops every packet in and out of the container (but loopback), inside its network namespace. */
  async dropTraffic(target: TargetContainer): Promise<void> {
    await this.describe(target.containerId);
    await this.inNetworkNamespace(target, DROP_RULES.map(({ chain, rule }) => `iptables -I ${chain} 1 ${rule}`).join(' && '));
  }

  /** Undoes dropTraffic; a container that is gone (or restarted, with a fresh namespace) needs nothing. */
  async restoreTraffic(target: TargetContainer): Promise<void> {
    await this.inNetworkNamespaceIfAny(
      target,
      DROP_RULES.map(({ chain, rule }) => `while iptables -D ${chain} ${rule} 2>/dev/null; do :; done`).join('; '),
    );
  }

  /**
   * Which of dropTraffic's rules the container's namespace holds now (as
   * `iptables -S` lists them), read through the same helper that set them.
   */
  async droppingRules(target: TargetContainer): Promise<string[]> {
    const listed = new Set(await this.iptablesRules(target));
    return DROP_RULES.map(({ chain, rule }) => `-A ${chain} ${rule}`).filter((rule) => listed.has(rule));
  }

  /**
   * Drops each packet in and out of the container (but loopback) with
   * `probability`, inside its network namespace: the statistic match draws
   * per packet, so connections live on and retransmissions get through.
   */
  async losePackets(target: TargetContainer, probability: number): Promise<void> {
    await this.describe(target.containerId);
    await this.inNetworkNamespace(
      target,
      PACKET_LOSS_CHAINS.map(
        ({ chain, notLoopback }) =>
          `iptables -I ${chain} 1 ${notLoopback} -m statistic --mode random --probability ${probability} -m comment --comment ${PACKET_LOSS_COMMENT} -j DROP`,
      ).join(' && '),
    );
  }

  /**
   * Undoes losePackets: deletes every rule carrying its comment, whatever its
   * probability (one left by a run that crashed too), as `iptables -S` lists
   * it. A container that is gone or restarted has no such rule left.
   */
  async stopLosingPackets(target: TargetContainer): Promise<void> {
    await this.inNetworkNamespaceIfAny(
      target,
      `rules=$(iptables -S) || exit 1; echo "$rules" | sed -n 's/^-A \\(.* --comment ${PACKET_LOSS_COMMENT} .*\\)$/-D \\1/p' | while read -r rule; do iptables $rule || exit 1; done`,
    );
  }

  /** The packet-loss rules the container's namespace holds now, read through the same helper that set them. */
  async packetLossRules(target: TargetContainer): Promise<PacketLossRule[]> {
    return (await this.iptablesRules(target)).flatMap((line) => {
      const [, chain, probability] = PACKET_LOSS_LISTED.exec(line) ?? [];
      return chain && probability ? [{ chain, probability: Number(probability) }] : [];
    });
  }

  /**
   * Every rule and policy of the filter table in the container's namespace,
   * as `iptables -S` lists them: the e2e suite compares them before and after
   * a run that must change nothing, whoever might have added one.
   */
  async iptablesRules(target: TargetContainer): Promise<string[]> {
    await this.describe(target.containerId);
    return (await this.inNetworkNamespace(target, 'iptables -S'))
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line.length > 0);
  }

  /**
   * Starts toxiproxy-server in the container's network namespace: a sidecar
   * of the netfault image (no capability, read-only root), labelled with the
   * scope so a sweep finds one a crash left, and with its target. Returns its
   * API's URL, on the target's address.
   */
  async startToxiproxy(target: TargetContainer): Promise<string> {
    const current = await this.describe(target.containerId);
    const sidecar = await this.createHelper('toxiproxy', {
      name: `${current.name}-toxiproxy`,
      Cmd: ['toxiproxy-server', '-host', '0.0.0.0', '-port', String(TOXIPROXY_API_PORT), '-proxy-metrics'],
      Labels: { [TOXIPROXY_FOR_LABEL]: current.containerId },
      HostConfig: { NetworkMode: `container:${current.containerId}` },
    });
    await sidecar.start();
    return `http://${current.ip}:${TOXIPROXY_API_PORT}`;
  }

  /** The names of the Toxiproxy sidecars running in the container's namespace now. */
  async toxiproxySidecars(target: TargetContainer): Promise<string[]> {
    const listed = await this.docker.listContainers({
      all: true,
      filters: { label: [`${TOXIPROXY_FOR_LABEL}=${target.containerId}`, `${this.scope.label}=${this.scope.value}`] },
    });
    return listed.map((entry) => (entry.Names[0] ?? entry.Id).replace(/^\//, ''));
  }

  /** Removes every Toxiproxy sidecar of the container: the connections through it close, and its callers reconnect. */
  async removeToxiproxy(target: TargetContainer): Promise<void> {
    for (const name of await this.toxiproxySidecars(target)) {
      await this.docker.getContainer(name).remove({ force: true }).catch(ignoreGone);
    }
  }

  /**
   * Sends the connections from outside to the container's port through the
   * Toxiproxy in its namespace (chaos/toxiproxy/README.md): the REDIRECT
   * rule, then a reset of the connections already open, which conntrack
   * would otherwise keep on their direct path for as long as they live.
   */
  async redirectToProxy(target: TargetContainer, redirect: Redirect): Promise<void> {
    await this.describe(target.containerId);
    await this.inNetworkNamespace(target, `${shellLine(redirectRule('-A', redirect))} && ${shellLine(resetEstablished(redirect.port))}`);
  }

  /** Undoes redirectToProxy's rule (every copy of it); a container that is gone or restarted has none. */
  async removeRedirect(target: TargetContainer, redirect: Redirect): Promise<void> {
    await this.inNetworkNamespaceIfAny(
      target,
      `while ${shellLine(redirectRule('-C', redirect))} 2>/dev/null; do ${shellLine(redirectRule('-D', redirect))} || exit 1; done`,
    );
  }

  /** Whether the container's namespace redirects its port to the proxy now. */
  async redirectsToProxy(target: TargetContainer, redirect: Redirect): Promise<boolean> {
    await this.describe(target.containerId);
    const found = await this.inNetworkNamespace(
      target,
      `if ${shellLine(redirectRule('-C', redirect))} 2>/dev/null; then echo yes; else echo no; fi`,
    );
    return found === 'yes';
  }

  /** The connections established to `port` in the container's namespace now, as `ss` lists them. */
  async connectionsTo(target: TargetContainer, port: number): Promise<PortConnections> {
    await this.describe(target.containerId);
    const peers = (await this.inNetworkNamespace(target, `ss -Htn state established '( sport = :${port} )'`))
      .split(/\r?\n/)
      .map((line) => line.trim().split(/\s+/).at(-1) ?? '')
      .filter((peer) => peer !== '');
    const local = peers.filter((peer) => peer.startsWith('127.') || peer.startsWith('[::1]') || peer.startsWith('[::ffff:127.')).length;
    return { local, remote: peers.length - local };
  }

  /**
   * A volume holding libfaketime (from the netfault image), for a container
   * started with its clock off to preload: labelled with the scope, so a
   * sweep finds one a crash left. Its name is returned; removeVolume undoes it.
   */
  async faketimeVolume(name: string): Promise<string> {
    await this.docker.createVolume({ Name: name, Labels: { [this.scope.label]: this.scope.value, [ROLE_LABEL]: 'faketime' } });
    await this.runHelper(`copying libfaketime into volume ${name}`, {
      Cmd: ['cp', FAKETIME_LIBRARY, `${FAKETIME_MOUNT}/`],
      role: 'faketime',
      HostConfig: { Mounts: [{ Type: 'volume', Source: name, Target: FAKETIME_MOUNT }] },
    });
    return name;
  }

  /** Removes a volume of this scope that faketimeVolume made; one already gone is fine. */
  async removeVolume(name: string): Promise<void> {
    const info = await this.inspectVolume(name);
    if (!info) return;
    if (info.Labels?.[this.scope.label] !== this.scope.value) throw new RefusedTargetError(`refused: volume ${name} is not of this scope`);
    await this.docker.getVolume(name).remove();
  }

  /** `docker volume inspect`; undefined for a volume that is not there. */
  private async inspectVolume(name: string): Promise<Docker.VolumeInspectInfo | undefined> {
    return (await this.docker
      .getVolume(name)
      .inspect()
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode === 404) return undefined;
        throw error;
      })) as Docker.VolumeInspectInfo | undefined;
  }

  /**
   * The volume mounted at `path` in the target, when it is a sized volume of
   * this scope (a local tmpfs with a size from 1 byte to 1 GiB); undefined
   * for anything else: a volume on the host's disk, a bind mount, nothing there.
   */
  async sizedVolumeAt(target: TargetContainer, path: string): Promise<SizedVolume | undefined> {
    await this.describe(target.containerId);
    const { Mounts } = await this.docker.getContainer(target.containerId).inspect();
    const mount = (Mounts ?? []).find((candidate) => candidate.Destination === path && candidate.Type === 'volume');
    const found = mount?.Name ? await this.sizedVolume(mount.Name) : 'gone';
    return typeof found === 'string' ? undefined : found;
  }

  /** The volume named `name` when it is a sized volume of this scope; else whether it is gone or is another kind. */
  private async sizedVolume(name: string): Promise<SizedVolume | 'gone' | 'not sized'> {
    const volume = await this.inspectVolume(name);
    if (!volume) return 'gone';
    if (volume.Labels?.[this.scope.label] !== this.scope.value) return 'not sized';
    const options = volume.Options ?? {};
    const sizeBytes = volume.Driver === 'local' && options.type === 'tmpfs' ? tmpfsSizeBytes(options.o ?? '') : undefined;
    return sizeBytes !== undefined && sizeBytes <= MAX_SIZED_VOLUME_BYTES ? { name, sizeBytes } : 'not sized';
  }

  /** Writes zeros into `file` on the volume until its filesystem has no byte left; fails on any other error. */
  async fillVolume(volume: SizedVolume, file: string): Promise<void> {
    // dd stops at the first short write: "No space left on device" is the end asked for.
    const script = `out=$(dd if=/dev/zero of="${VOLUME_MOUNT}/$FILE" bs=64k 2>&1); case "$out" in *'No space left on device'*) exit 0 ;; esac; echo "$out"; exit 1`;
    await this.onVolume(volume, file, `filling volume ${volume.name}`, script);
  }

  /** What the volume's filesystem has free, as statfs says, and the size of `file` on it. */
  async volumeSpace(volume: SizedVolume, file: string): Promise<VolumeSpace> {
    const output = await this.onVolume(
      volume,
      file,
      `reading volume ${volume.name}`,
      `stat -f -c '%a %b %S' ${VOLUME_MOUNT} && { stat -c %s "${VOLUME_MOUNT}/$FILE" 2>/dev/null || echo 0; }`,
    );
    const [available, blocks, blockSize, fileBytes] = output.split(/\s+/).map(Number);
    if ([available, blocks, blockSize, fileBytes].some((value) => value === undefined || !Number.isFinite(value))) {
      throw new Error(`statfs of volume ${volume.name} answered ${JSON.stringify(output)}`);
    }
    return { availableBytes: (available ?? 0) * (blockSize ?? 0), totalBytes: (blocks ?? 0) * (blockSize ?? 0), fileBytes: fileBytes ?? 0 };
  }

  /** Removes `file` from the volume; one already gone, or a volume gone with it, is fine. */
  async removeFromVolume(volume: SizedVolume, file: string): Promise<void> {
    await this.onVolume(volume, file, `emptying volume ${volume.name}`, `rm -f "${VOLUME_MOUNT}/$FILE"`, { goneIsDone: true });
  }

  /**
   * Runs `script` (with `$FILE` the file's name) in a helper that has the
   * volume and nothing else: no network, no capability, a read-only root,
   * the uid of nobody; SIZED_TMPFS_GUARD first. The volume is inspected
   * again before: a volume that is gone would otherwise be made again, on
   * the host's disk, by the helper's mount.
   */
  private async onVolume(volume: SizedVolume, file: string, what: string, script: string, { goneIsDone = false } = {}): Promise<string> {
    if (!PLAIN_FILE_NAME.test(file)) throw new RefusedTargetError(`refused: ${JSON.stringify(file)} is not a plain file name`);
    const now = await this.sizedVolume(volume.name);
    if (now === 'gone' && goneIsDone) return '';
    if (typeof now === 'string') {
      throw new RefusedTargetError(
        `refused: volume ${volume.name} is ${now === 'gone' ? 'gone' : 'no longer a sized volume of this scope'}`,
      );
    }
    return this.runHelper(what, {
      Cmd: ['sh', '-c', `${SIZED_TMPFS_GUARD}\n${script}`],
      role: 'volume',
      User: VOLUME_HELPER_USER,
      Env: [`FILE=${file}`],
      HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: volume.name, Target: VOLUME_MOUNT }] },
    });
  }

  /** The container's clock, as `date +%s` in it says (its own preloads included): epoch seconds. */
  async clockOf(target: TargetContainer): Promise<number> {
    await this.describe(target.containerId);
    const output = await execOutput(this.docker.getContainer(target.containerId), ['date', '+%s']);
    const seconds = Number(output);
    if (!Number.isInteger(seconds)) throw new Error(`date in ${target.name} answered ${JSON.stringify(output)}`);
    return seconds;
  }

  /**
   * For an undo: runs `script` in the target's network namespace when it has
   * one; a target stopped or gone has none, and a start makes a fresh one
   * with none of the rules to take away.
   */
  private async inNetworkNamespaceIfAny(target: TargetContainer, script: string): Promise<void> {
    const current = await this.describe(target.containerId);
    if (hasNetworkNamespace(current.state)) await this.inNetworkNamespace(target, script);
  }

  /**
   * Runs `script` in a short-lived helper container that shares the target's
   * network namespace with NET_ADMIN only (Pumba's way): the target itself
   * keeps its dropped capabilities and needs no tools. Returns its output.
   */
  private inNetworkNamespace(target: TargetContainer, script: string): Promise<string> {
    return this.runHelper(`the network helper in ${target.name}'s namespace`, {
      Cmd: ['sh', '-c', script],
      role: 'netfault',
      HostConfig: { NetworkMode: `container:${target.containerId}`, CapAdd: ['NET_ADMIN'] },
    });
  }

  /**
   * Runs a short-lived container of the netfault image to its end, with no
   * capability but those `HostConfig` adds; its output, or an error naming
   * `what` with its exit status and output. Removed whatever happened.
   */
  private async runHelper(
    what: string,
    {
      Cmd,
      role,
      HostConfig,
      User,
      Env,
    }: {
      readonly Cmd: string[];
      readonly role: string;
      readonly HostConfig: Docker.HostConfig;
      readonly User?: string;
      readonly Env?: string[];
    },
  ): Promise<string> {
    const helper = await this.createHelper(role, {
      Cmd,
      ...(User !== undefined && { User }),
      ...(Env !== undefined && { Env }),
      // A terminal: its log is the plain output (no stream headers), for droppingRules to read.
      Tty: true,
      HostConfig,
    });
    try {
      await helper.start();
      const { StatusCode } = (await helper.wait()) as { StatusCode: number };
      const output = (await helper.logs({ stdout: true, stderr: true })).toString('utf8').trim();
      if (StatusCode !== 0) throw new Error(`${what} exited ${StatusCode}: ${output}`);
      return output;
    } finally {
      await helper.remove({ force: true }).catch(() => undefined);
    }
  }

  /**
   * A container of the netfault image in the role `role`, never a chaos
   * target: the scope's label (a sweep of the run finds one a crash left), no
   * capability but those `HostConfig` adds, no privilege to gain, a
   * read-only root unless `HostConfig` says otherwise.
   */
  private createHelper(
    role: string,
    { Labels, HostConfig, ...rest }: Omit<Docker.ContainerCreateOptions, 'Image'>,
  ): Promise<Docker.Container> {
    return this.docker.createContainer({
      ...rest,
      Image: this.netfaultImage ?? netfaultImage(),
      Labels: { [this.scope.label]: this.scope.value, [ROLE_LABEL]: role, ...Labels },
      HostConfig: { CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], ReadonlyRootfs: true, ...HostConfig },
    });
  }

  /** Its CPU and memory limits as Docker holds them now, and whether the kernel's OOM killer ended its last run. */
  async limits(target: TargetContainer): Promise<Limits & { readonly oomKilled: boolean }> {
    await this.describe(target.containerId);
    const { HostConfig, State } = await this.docker.getContainer(target.containerId).inspect();
    return {
      nanoCpus: HostConfig.NanoCpus ?? 0,
      cpuQuota: HostConfig.CpuQuota ?? 0,
      cpuPeriod: HostConfig.CpuPeriod ?? 0,
      memory: HostConfig.Memory ?? 0,
      memorySwap: HostConfig.MemorySwap ?? 0,
      oomKilled: State.OOMKilled,
    };
  }

  /** `docker update`: changes its limits in place, running or not (resource-limits.ts says which fields). */
  async updateLimits(target: TargetContainer, update: LimitsUpdate): Promise<void> {
    await this.describe(target.containerId);
    await this.docker.getContainer(target.containerId).update(update);
  }

  /** The memory its cgroup charges now (bytes), as `docker stats` reads it. */
  async memoryUsage(target: TargetContainer): Promise<number> {
    await this.describe(target.containerId);
    const stats = await this.docker.getContainer(target.containerId).stats({ stream: false });
    return stats.memory_stats.usage;
  }

  /** Network aliases of the container on each of its networks, to restore after a disconnect. */
  async aliases(target: TargetContainer): Promise<Record<string, string[]>> {
    const info = await this.docker.getContainer(target.containerId).inspect();
    return Object.fromEntries(
      Object.entries(info.NetworkSettings.Networks ?? {}).map(([name, net]) => [name, serviceAliases(net.Aliases, info)]),
    );
  }

  /**
   * Starts a new hello container like `template` (same image, environment,
   * labels and networks) but listening on `port`: the client must follow
   * Consul to the new address. `differences`: more environment and mounts
   * (clock-skew's preloaded libfaketime).
   */
  async startLike(template: TargetContainer, port: number, differences: StartDifferences = {}): Promise<TargetContainer> {
    const info = await this.docker.getContainer(template.containerId).inspect();
    if (!isInScope(info.Config.Labels, this.scope)) throw new RefusedTargetError(`refused: ${template.name} is not a target of this scope`);
    this.replacements += 1;
    const networks = Object.entries(info.NetworkSettings.Networks ?? {}).filter(([name]) => name !== 'bridge');
    const [firstNetwork, ...otherNetworks] = networks;
    const labels = { ...info.Config.Labels, 'com.docker.compose.container-number': String(1_000 + port) };
    const base = template.name.replace(/-(\d+|p\d+-\d+)$/, '');
    const created = await this.docker.createContainer({
      name: `${base}-p${port}-${Date.now() % 100_000}${this.replacements}`,
      Image: info.Config.Image,
      Env: [...(info.Config.Env ?? []).filter((entry) => !entry.startsWith('PORT=')), `PORT=${port}`, ...(differences.env ?? [])],
      Labels: labels,
      Healthcheck: info.Config.Healthcheck,
      ...(info.Config.User && { User: info.Config.User }),
      // Everything else about how it runs is the template's: its user, read-only root,
      // dropped capabilities, limits, tmpfs and mounted secrets. Only its network is set here.
      HostConfig: {
        ...info.HostConfig,
        NetworkMode: firstNetwork?.[0] ?? 'bridge',
        PortBindings: {},
        Mounts: [...(info.HostConfig.Mounts ?? []), ...(differences.mounts ?? [])],
      },
      NetworkingConfig: firstNetwork
        ? { EndpointsConfig: { [firstNetwork[0]]: { Aliases: serviceAliases(firstNetwork[1].Aliases, info) } } }
        : undefined,
    });
    for (const [name, net] of otherNetworks) {
      await this.docker.getNetwork(name).connect({ Container: created.id, EndpointConfig: { Aliases: serviceAliases(net.Aliases, info) } });
    }
    await created.start();
    return this.describe(created.id);
  }

  /**
   * Swarm's answer to a task that died: the first healthy container of the
   * same service created after `since`; undefined when none came in time.
   */
  async swarmReplacement(task: TargetContainer, since: number, timeoutMs: number): Promise<TargetContainer | undefined> {
    return pollUntil(
      async () => {
        const newer = (await this.targets(task.role)).filter(
          (target) =>
            target.swarmService === task.swarmService && target.createdAt >= since - 1_000 && target.containerId !== task.containerId,
        );
        for (const candidate of newer) {
          const info = await this.docker.getContainer(candidate.containerId).inspect();
          if (info.State.Health?.Status === 'healthy') return this.describe(candidate.containerId);
        }
        return undefined;
      },
      { timeoutMs, everyMs: 250 },
    );
  }

  /** Waits until Docker reports the container healthy (its image's HEALTHCHECK); false at once if it stops running. */
  async waitHealthy(target: TargetContainer, timeoutMs: number): Promise<boolean> {
    const health = await pollUntil(
      async () => {
        const info = await this.docker.getContainer(target.containerId).inspect();
        if (info.State.Health?.Status === 'healthy') return 'healthy';
        return info.State.Running ? undefined : 'stopped';
      },
      { timeoutMs, everyMs: 250 },
    );
    return health === 'healthy';
  }
}

function serviceAliases(aliases: string[] | null | undefined, info: Docker.ContainerInspectInfo): string[] {
  // Keep service-level aliases ("hello"), drop the old container's own id and hostname.
  return (aliases ?? []).filter((alias) => alias !== info.Config.Hostname && !info.Id.startsWith(alias));
}

/** An argv as one line of sh, each word single-quoted. */
function shellLine(argv: readonly string[]): string {
  return argv.map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(' ');
}

/** What `Cmd` run in the container prints, trimmed (a terminal: no stream headers to take apart). */
export async function execOutput(container: Docker.Container, Cmd: string[]): Promise<string> {
  const exec = await container.exec({ Cmd, AttachStdout: true, AttachStderr: true, Tty: true });
  const stream = await exec.start({ hijack: true, stdin: false, Tty: true });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** For a removal: a container that is gone already is what was asked. */
export function ignoreGone(error: { statusCode?: number }): void {
  if (error.statusCode !== 404) throw error;
}

function ignoreNotModified(error: { statusCode?: number }): void {
  if (error.statusCode !== 304) throw error;
}
