import assert from 'node:assert/strict';
import type { ConsulHttp, ServiceInstance } from '@grpc-consul-lab/consul-discovery';
import { eventually } from '../../packages/testing/eventually.js';
import { hasNetworkNamespace, type TargetContainer } from '../../chaos/docker/docker-driver.js';
import { datacentersOf, inPreferredDatacenter } from '../../chaos/faults/hello-targets.js';
import { FAULT_KEY_PREFIX } from '../../packages/contracts/gray-fault.js';
import { fetchStats } from '../../packages/contracts/stats.js';
import type { ComposeStack } from './compose-stack.js';
import { HELLO_SERVICE_NAME } from '../../packages/contracts/hello.js';

/**
 * A stack shared by several scenarios is only worth sharing if each leaves it
 * as a fresh one would be: consistent and fault-free, though not identical
 * (scale churn and replacements leave new containers on new ports). This
 * reads it back from Docker, Consul and the client, and fails the test that
 * left a mess with one message naming every problem.
 */
export type CleanStack = Pick<ComposeStack, 'driver' | 'network' | 'statsUrl' | 'consulApi'>;

export interface CleanOptions {
  /** Names the test in the message. */
  readonly name: string;
  /**
   * How long Consul and the client may take to agree with Docker after the
   * scenario's settle: a TTL of 20 s, a heartbeat every 5 s, a gRPC check
   * every 2 s, then the client's blocking query.
   */
  readonly withinMs?: number;
}

const HELLO_SERVICE = HELLO_SERVICE_NAME;
const set = (items: readonly string[]): string => `{${[...items].sort().join(', ')}}`;
const sameSet = (a: readonly string[], b: readonly string[]): boolean => set(a) === set(b);
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Each target running, on the stack's network. */
function containerProblems(targets: readonly TargetContainer[], network: string): string[] {
  return targets.flatMap((target) => [
    ...(target.state === 'running' ? [] : [`${target.name}: ${target.state}, not running`]),
    ...(target.networks.includes(network)
      ? []
      : [`${target.name}: not attached to network ${network} (on ${target.networks.join(', ') || 'none'})`]),
  ]);
}

/** Consul passes exactly the live instances, each registered only at the address and port its container has. */
function consulProblems(live: readonly TargetContainer[], registered: readonly ServiceInstance[]): string[] {
  const passing = registered.filter((instance) => instance.status === 'passing').map((instance) => instance.id);
  const liveIds = live.map((target) => target.instanceId);
  const problems = sameSet(passing, liveIds) ? [] : [`Consul passing set ${set(passing)} != live instances ${set(liveIds)}`];
  for (const target of live) {
    const at = `${target.ip}:${target.port}`;
    const held = registered
      .filter((instance) => instance.id === target.instanceId)
      .map((instance) => `${instance.address}:${instance.port} (${instance.status})`);
    if (held.length !== 1 || held[0] !== `${at} (passing)`)
      problems.push(`${target.name}: attached at ${at}, Consul has ${target.instanceId} at ${held.join(', ') || 'no address'}`);
  }
  return problems;
}

/**
 * The client resolves exactly the live instances, at their addresses (its
 * keys are "id@address:port"); with datacenters (PROFILE=multi-dc), those
 * of the one it prefers, the first by name that has any (dc1, else dc2).
 */
function clientProblems(live: readonly TargetContainer[], resolved: readonly string[]): string[] {
  const preferred = inPreferredDatacenter(live);
  const expected = preferred.map((target) => `${target.instanceId}@${target.ip}:${target.port}`);
  const whose = datacentersOf(live).length > 1 ? `live instances of ${preferred[0]?.datacenter}` : 'live instances';
  return sameSet(resolved, expected) ? [] : [`client's resolved set ${set(resolved)} != ${whose} ${set(expected)}`];
}

/** Every instance each datacenter's Consul holds (asked with ?dc= when the stack has several). */
async function registeredIn(consul: ConsulHttp, live: readonly TargetContainer[]): Promise<ServiceInstance[]> {
  const datacenters = datacentersOf(live);
  const answers = await Promise.all(
    datacenters.map((dc) => consul.healthService({ service: HELLO_SERVICE, passingOnly: false, ...(datacenters.length > 1 && { dc }) })),
  );
  return answers.flatMap((answer) => answer.instances);
}

/**
 * What may still be converging after a scenario's settle (a container coming
 * back, Consul's checks, the client's watch) plus the gray-fault keys, read
 * once. A read that fails is a problem of its own, not a crash: the message
 * then says which of Docker, Consul or the client did not answer.
 */
async function convergingProblems(stack: CleanStack, consul: ConsulHttp): Promise<{ targets: TargetContainer[]; problems: string[] }> {
  const [targets, faultKeys, stats] = await Promise.allSettled([
    stack.driver.targets(),
    consul.kvKeys(FAULT_KEY_PREFIX),
    fetchStats(stack.statsUrl),
  ]);
  if (targets.status === 'rejected') return { targets: [], problems: [`Docker: targets not listed: ${messageOf(targets.reason)}`] };
  const live = targets.value.filter((target) => target.role === 'hello' && target.state === 'running');
  const [registered] = await Promise.allSettled([registeredIn(consul, live)]);
  const problems = containerProblems(targets.value, stack.network);
  if (registered.status === 'fulfilled') problems.push(...consulProblems(live, registered.value));
  else problems.push(`Consul: ${HELLO_SERVICE} not read: ${messageOf(registered.reason)}`);
  if (faultKeys.status === 'fulfilled') problems.push(...faultKeys.value.map((key) => `gray-fault key left: ${key}`));
  else problems.push(`Consul: keys under ${FAULT_KEY_PREFIX} not listed: ${messageOf(faultKeys.reason)}`);
  if (stats.status === 'fulfilled') problems.push(...clientProblems(live, stats.value.resolvedInstances));
  else problems.push(`client: /stats not read: ${messageOf(stats.reason)}`);
  return { targets: targets.value, problems };
}

/**
 * DROP rules left in each target's network namespace: partition's (every
 * packet), packet-loss's (some), any other; the stack itself sets none. And
 * a Toxiproxy sidecar left in one (the network toxics'). Read
 * once, at the end: nothing in the stack removes such a rule by itself, so
 * waiting would not change the answer (and each read starts a helper container).
 */
async function ruleProblems(stack: CleanStack, targets: readonly TargetContainer[]): Promise<string[]> {
  const withNamespace = targets.filter((target) => hasNetworkNamespace(target.state));
  const found = await Promise.all(
    withNamespace.map(async (target) => {
      try {
        const [listed, sidecars] = await Promise.all([stack.driver.iptablesRules(target), stack.driver.toxiproxySidecars(target)]);
        const rules = listed.filter((rule) => / -j DROP$/.test(rule));
        return [
          ...(rules.length === 0 ? [] : [`${target.name}: ${rules.length} DROP rule(s) left in its netns (${rules.join('; ')})`]),
          ...(sidecars.length === 0 ? [] : [`${target.name}: Toxiproxy sidecar(s) left in its netns (${sidecars.join(', ')})`]),
        ];
      } catch (error) {
        return [`${target.name}: iptables rules not read: ${messageOf(error)}`];
      }
    }),
  );
  return found.flat();
}

/**
 * Fails unless the stack is clean: every chaos target (hello instances and
 * Consul servers) running and attached to the stack's network; Consul passing
 * exactly the running hello instances, each at its container's address and
 * port; the client resolving exactly those; no gray-fault key; no DROP rule
 * and no Toxiproxy sidecar in any target's network namespace. Waits up to `withinMs` (30 s) for Docker,
 * Consul and the client to agree, then fails with what it last saw.
 */
export async function assertStackClean(stack: CleanStack, { name, withinMs = 30_000 }: CleanOptions): Promise<void> {
  const consul = await stack.consulApi();
  try {
    let last: { targets: TargetContainer[]; problems: string[] } = { targets: [], problems: ['not read yet'] };
    await eventually(
      async () => {
        last = await convergingProblems(stack, consul);
        return last.problems.length === 0;
      },
      withinMs,
      1_000,
    );
    const problems = [...last.problems, ...(await ruleProblems(stack, last.targets))];
    const waited = last.problems.length > 0 ? ` (still so after ${withinMs / 1_000} s)` : '';
    assert.deepEqual(problems, [], `[${name}] the stack is not clean${waited}:\n  ${problems.join('\n  ')}`);
  } finally {
    consul.close();
  }
}
