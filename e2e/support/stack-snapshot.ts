import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { hasNetworkNamespace } from '../../chaos/docker/docker-driver.js';
import { COMPOSE_PROJECT_LABEL } from '../../chaos/docker/labels.js';
import { FAULT_KEY_PREFIX } from '../../packages/contracts/gray-fault.js';
import type { ComposeStack } from './compose-stack.js';

/**
 * "Changes nothing", measured: what a stack and its report folders hold,
 * as flat facts ("container gcl-…-hello-1 on gcl-…_default" -> its address),
 * so two snapshots compare key by key and a difference reads as one line.
 * Uptimes and health are not facts here (they move by themselves); when a
 * container started is, so a restart shows.
 */
export type Snapshot = Readonly<Record<string, string>>;

export type SnapshotStack = Pick<ComposeStack, 'project' | 'driver' | 'consulApi'>;

const docker = new Docker();

/** Every container of the project, the chaos targets' and the others' (client, Consul's bootstrap job, helpers left behind). */
async function containerFacts(project: string): Promise<[string, string][]> {
  const listed = await docker.listContainers({ all: true, filters: { label: [`${COMPOSE_PROJECT_LABEL}=${project}`] } });
  const facts = await Promise.all(
    listed.map(async ({ Id }) => {
      const info = await docker.getContainer(Id).inspect();
      const name = info.Name.replace(/^\//, '');
      const state = info.State.Paused ? 'paused' : info.State.Status;
      const networks = Object.entries(info.NetworkSettings.Networks ?? {}).map(([network, endpoint]): [string, string] => [
        `container ${name} on ${network}`,
        endpoint.IPAddress || '(no address)',
      ]);
      return [
        [`container ${name}`, `${Id.slice(0, 12)} ${state}, started ${info.State.StartedAt}, restarts ${info.RestartCount}`],
        ...networks,
      ] as [string, string][];
    }),
  );
  return facts.flat();
}

/** The gray-fault keys in Consul's KV, with what each holds. */
async function grayFaultFacts(stack: SnapshotStack): Promise<[string, string][]> {
  const consul = await stack.consulApi();
  try {
    const keys = await consul.kvKeys(FAULT_KEY_PREFIX);
    // Awaited here: `finally` must not close the connection under the reads.
    return await Promise.all(
      keys.map(async (key): Promise<[string, string]> => [`gray-fault key ${key}`, (await consul.kvGet(key)).value ?? '']),
    );
  } finally {
    consul.close();
  }
}

/** The filter table of each target's network namespace (any rule, not only the runner's DROP rules). */
async function iptablesFacts(stack: SnapshotStack): Promise<[string, string][]> {
  const targets = (await stack.driver.targets()).filter((target) => hasNetworkNamespace(target.state));
  return Promise.all(
    targets.map(async (target): Promise<[string, string]> => [
      `iptables in ${target.name}`,
      (await stack.driver.iptablesRules(target)).join(' | '),
    ]),
  );
}

/** Every file under each folder, with its size and when it was last written. */
function fileFacts(dirs: readonly string[]): [string, string][] {
  return dirs.flatMap((dir) =>
    existsSync(dir)
      ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).flatMap((relative): [string, string][] => {
          const stats = statSync(join(dir, relative));
          return stats.isFile() ? [[`file ${join(dir, relative)}`, `${stats.size} bytes, written ${stats.mtime.toISOString()}`]] : [];
        })
      : [],
  );
}

/** The stack's containers (state, start, networks and addresses), gray-fault keys, iptables rules, and the files under `dirs`. */
export async function snapshotOf(stack: SnapshotStack, dirs: readonly string[]): Promise<Snapshot> {
  // One after the other: the iptables reads start helper containers of the
  // project, which the container listing must not catch half-removed.
  const containers = await containerFacts(stack.project);
  const grayFaults = await grayFaultFacts(stack);
  const iptables = await iptablesFacts(stack);
  // An empty reading would compare equal to another: a snapshot that saw no stack proves nothing.
  assert.ok(containers.length > 0 && iptables.length > 0, `no running chaos target in project ${stack.project}: nothing to compare`);
  return Object.fromEntries([...containers, ...grayFaults, ...iptables, ...fileFacts(dirs)].sort(([a], [b]) => a.localeCompare(b)));
}

/** Each fact that differs, as "what: before -> after" ("absent" where a side lacks it). */
export function changesBetween(before: Snapshot, after: Snapshot): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.filter((key) => before[key] !== after[key]).map((key) => `${key}: ${before[key] ?? 'absent'} -> ${after[key] ?? 'absent'}`);
}

/** Takes the snapshot again and fails, naming each change, unless it equals `before`. */
export async function assertUnchanged(stack: SnapshotStack, dirs: readonly string[], before: Snapshot, what: string): Promise<void> {
  const changes = changesBetween(before, await snapshotOf(stack, dirs));
  assert.deepEqual(changes, [], `${what} changed the stack or its reports:\n  ${changes.join('\n  ')}`);
}
