import type { ConsulHttp, HealthResult } from '@grpc-consul-lab/consul-discovery';
import { DROP_RULES, type DockerDriver, hasNetworkNamespace, type PacketLossRule, type TargetContainer } from '../docker/docker-driver.js';
import { coresOf, describeCpu, describeMemory, type Limits, sameCores } from '../docker/resource-limits.js';
import { type Clock, pollUntil, systemClock } from '../../packages/runtime/poll.js';
import type { Redirect } from '../toxiproxy/redirect.js';
import type { Toxic } from '../toxiproxy/toxics.js';
import { HELLO_SERVICE_NAME } from '../../packages/contracts/hello.js';

/**
 * How a step proves what it did: a read-back asks Docker or Consul what is
 * there now, never trusts that a call which returned did what it asked
 * (a kill whose container is still running, a KV write that did not land).
 */
export interface Reading {
  readonly observed: string;
  readonly ok: boolean;
}

export type ReadBack = () => Promise<Reading>;

/**
 * What was read back from Docker or Consul to prove a fault took, or was
 * undone: a kill is only a kill once the container reads back as not running.
 */
export interface Observation {
  /** Epoch ms of the (last) read-back. */
  readonly at: number;
  /** What was there, in a few words ("hello-2 paused", "key holds {...}"). */
  readonly observed: string;
  /** The read-back showed what the step meant to do. */
  readonly ok: boolean;
}

const RETRY_EVERY_MS = 250;

/**
 * The one place a read-back becomes a journal observation. Faults land
 * asynchronously (a SIGTERM waits out the server's drain, a stop its
 * timeout), so a read-back that does not confirm yet is asked again until
 * `withinMs` has passed; one that throws is an observation too, not a crash.
 */
export async function observe(readBack: ReadBack, withinMs: number, clock: Clock = systemClock): Promise<Observation> {
  let last: Reading = { observed: 'not read back', ok: false };
  await pollUntil(
    async () => {
      last = await readBack().catch((error: unknown) => ({ observed: `read-back failed: ${(error as Error).message}`, ok: false }));
      return last.ok ? last : undefined;
    },
    { timeoutMs: withinMs, everyMs: RETRY_EVERY_MS, clock },
  );
  return { at: clock.now(), ...last };
}

/** Every read-back at once: confirmed when each is, observed as each says. */
export function allOf(readBacks: readonly ReadBack[]): ReadBack {
  return async () => {
    const readings = await Promise.all(readBacks.map((readBack) => readBack()));
    return { observed: readings.map((reading) => reading.observed).join('; '), ok: readings.every((reading) => reading.ok) };
  };
}

/** The container as Docker has it now; undefined once it was removed. */
async function current(driver: DockerDriver, target: TargetContainer): Promise<TargetContainer | undefined> {
  try {
    return await driver.describe(target.containerId);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

/**
 * The state a step meant to leave a container in. 'down' is any state that
 * serves nothing (exited, dead, or removed), as a kill, a stop or a removal
 * leaves it.
 */
export type Wanted = 'running' | 'paused' | 'down' | 'gone';

function isWanted(state: string, wanted: Wanted): boolean {
  if (wanted === 'down') return state === 'exited' || state === 'dead' || state === 'gone';
  return state === wanted;
}

export function containerIs(driver: DockerDriver, target: TargetContainer, wanted: Wanted): ReadBack {
  return async () => {
    const state = (await current(driver, target))?.state ?? 'gone';
    return { observed: `${target.name} ${state}`, ok: isWanted(state, wanted) };
  };
}

/** Running, and started at or after `since`: it went down and came back within the step. */
export function restartedSince(driver: DockerDriver, target: TargetContainer, since: number): ReadBack {
  return async () => {
    const now = await current(driver, target);
    const state = now?.state ?? 'gone';
    const startedAt = now?.startedAt ?? Number.NaN;
    const when = Number.isNaN(startedAt) ? 'never started' : `started ${new Date(startedAt).toISOString()}`;
    return { observed: `${target.name} ${state}, ${when}`, ok: state === 'running' && startedAt >= since };
  };
}

/** On every network it had (`attached`), or on none of them. */
export function networksOf(driver: DockerDriver, target: TargetContainer, { attached }: { readonly attached: boolean }): ReadBack {
  return async () => {
    const now = (await current(driver, target))?.networks ?? [];
    const on = target.networks.filter((network) => now.includes(network));
    return {
      observed: `${target.name} on ${on.length > 0 ? on.join(', ') : `none of ${target.networks.join(', ')}`}`,
      ok: attached ? on.length === target.networks.length : on.length === 0,
    };
  };
}

/**
 * dropTraffic's rules in the container's namespace: all of them (`dropped`),
 * or none. A container that no longer runs has no namespace left to hold a
 * rule (a restart starts a fresh one), which is as good as none.
 */
export function trafficDropped(driver: DockerDriver, target: TargetContainer, { dropped }: { readonly dropped: boolean }): ReadBack {
  return async () => {
    const state = (await current(driver, target))?.state ?? 'gone';
    if (!hasNetworkNamespace(state)) return { observed: `${target.name} ${state}: no namespace, no rule`, ok: !dropped };
    const rules = await driver.droppingRules(target);
    return {
      observed: `${target.name}: ${rules.length > 0 ? rules.join(' and ') : 'no DROP rule'}`,
      ok: dropped ? rules.length === DROP_RULES.length : rules.length === 0,
    };
  };
}

/**
 * losePackets' rules in the container's namespace: one in INPUT and one in
 * OUTPUT, each dropping with `probability` (as the kernel keeps it, to 2^-31),
 * or (undefined) none. No namespace, as for trafficDropped, holds none.
 */
export function packetsLost(driver: DockerDriver, target: TargetContainer, probability: number | undefined): ReadBack {
  return async () => {
    const state = (await current(driver, target))?.state ?? 'gone';
    if (!hasNetworkNamespace(state)) {
      return { observed: `${target.name} ${state}: no namespace, no packet-loss rule`, ok: probability === undefined };
    }
    const rules = await driver.packetLossRules(target);
    const listed = rules.map((rule) => `${rule.chain} drops with p=${rule.probability}`).join(' and ');
    const chains = rules.map((rule) => rule.chain).sort();
    const asked = (rule: PacketLossRule): boolean => probability !== undefined && Math.abs(rule.probability - probability) < 1e-6;
    return {
      observed: `${target.name}: ${rules.length > 0 ? listed : 'no packet-loss rule'}`,
      ok: probability === undefined ? rules.length === 0 : chains.join() === 'INPUT,OUTPUT' && rules.every(asked),
    };
  };
}

/**
 * A network fault through Toxiproxy in place (chaos/faults/network-toxics.ts):
 * its toxic in force with the attributes asked, the REDIRECT rule in the
 * namespace, and no connection reaching the instance's port from outside
 * the namespace, so every caller's bytes pass the toxic (a connection left on
 * its direct path would make the fault a no-op for that caller).
 */
export function throughToxiproxy(
  driver: DockerDriver,
  target: TargetContainer,
  redirect: Redirect,
  toxics: () => Promise<readonly Toxic[]>,
  toxic: Toxic,
): ReadBack {
  return async () => {
    const [inForce, redirected, connections] = await Promise.all([
      toxics(),
      driver.redirectsToProxy(target, redirect),
      driver.connectionsTo(target, redirect.port),
    ]);
    const found = inForce.find((candidate) => candidate.name === toxic.name);
    const asked = found !== undefined && found.type === toxic.type && found.stream === toxic.stream && sameAttributes(found, toxic);
    return {
      observed: `${target.name}: toxic ${found ? `${found.type} ${JSON.stringify(found.attributes)} on ${found.stream}` : `${toxic.name} not in force`}; port ${redirect.port} ${redirected ? `redirected to ${redirect.proxyPort}` : 'not redirected'}; ${connections.remote} connection(s) from outside bypass the proxy, ${connections.local} from within`,
      ok: asked && redirected && connections.remote === 0,
    };
  };
}

function sameAttributes(found: Toxic, asked: Toxic): boolean {
  const attributes = found.attributes as Readonly<Record<string, unknown>>;
  return Object.entries(asked.attributes).every(([key, value]) => attributes[key] === value);
}

/** No Toxiproxy sidecar in the container's namespace and no REDIRECT rule: its callers reach it directly again. */
export function noToxiproxy(driver: DockerDriver, target: TargetContainer, redirect: Redirect): ReadBack {
  return async () => {
    const sidecars = await driver.toxiproxySidecars(target);
    const state = (await current(driver, target))?.state ?? 'gone';
    const redirected = hasNetworkNamespace(state) && (await driver.redirectsToProxy(target, redirect));
    return {
      observed: `${target.name}: ${sidecars.length > 0 ? `Toxiproxy sidecar ${sidecars.join(', ')} still there` : 'no Toxiproxy sidecar'}; port ${redirect.port} ${redirected ? 'still redirected' : 'not redirected'}`,
      ok: sidecars.length === 0 && !redirected,
    };
  };
}

/**
 * Its CPU limit as Docker holds it (HostConfig): `cores` of a core, or
 * (undefined) none, whichever of NanoCpus or the CFS quota says so.
 */
export function cpuLimited(driver: DockerDriver, target: TargetContainer, cores: number | undefined): ReadBack {
  return async () => {
    const limits = await driver.limits(target);
    return { observed: `${target.name}: ${describeCpu(limits)}`, ok: sameCores(coresOf(limits), cores) };
  };
}

/** Its state and limits, and the line that says them. */
async function memoryNow(driver: DockerDriver, target: TargetContainer) {
  const [limits, now] = await Promise.all([driver.limits(target), current(driver, target)]);
  const state = now?.state ?? 'gone';
  return { limits, state, said: `${target.name} ${state}${limits.oomKilled ? ' (OOM-killed)' : ''}: ${describeMemory(limits)}` };
}

/** Its memory limit as Docker holds it (HostConfig.Memory): `memory` bytes, whether or not the OOM killer has struck since. */
export function memoryLimited(driver: DockerDriver, target: TargetContainer, memory: number): ReadBack {
  return async () => {
    const { limits, said } = await memoryNow(driver, target);
    return { observed: said, ok: limits.memory === memory };
  };
}

/**
 * Its memory limit and swap exactly as they were, and running (the undo
 * starts one the OOM killer ended); `note` adds what the undo found.
 */
export function memoryRestored(
  driver: DockerDriver,
  target: TargetContainer,
  original: Pick<Limits, 'memory' | 'memorySwap'>,
  note: () => string,
): ReadBack {
  return async () => {
    const { limits, state, said } = await memoryNow(driver, target);
    const same = limits.memory === original.memory && limits.memorySwap === original.memorySwap;
    return { observed: `${said}${note()}`, ok: same && state === 'running' };
  };
}

/** The old containers removed and the new ones running: what a replacement or a scale leaves. */
export function replacedBy(driver: DockerDriver, old: readonly TargetContainer[], started: readonly TargetContainer[]): ReadBack {
  return allOf([
    ...old.map((target) => containerIs(driver, target, 'gone')),
    ...started.map((target) => containerIs(driver, target, 'running')),
  ]);
}

/** A Consul KV key holding exactly `expected`, or (undefined) absent. */
export function kvHolds(consul: ConsulHttp, key: string, expected: string | undefined): ReadBack {
  return async () => {
    const { value } = await consul.kvGet(key);
    return { observed: value === undefined ? `${key} absent` : `${key} = ${value}`, ok: value === expected };
  };
}

/**
 * What the Consul servers of `datacenter` hold for the instances: every one
 * of them passing (`passing`), or none. Asked with `?dc=` of each agent the
 * runner knows in turn until one answers: that datacenter's own server
 * answers from its catalog, another's forwards over the WAN, and right after
 * a datacenter comes back its WAN link is not rejoined for seconds ("Remote
 * DC has no server currently reachable") while the runner's client may have
 * stuck to the other datacenter's server when this one was down.
 */
export function passingInDatacenter(
  consul: ConsulHttp,
  datacenter: string,
  instanceIds: readonly string[],
  { passing }: { readonly passing: boolean },
): ReadBack {
  return async () => {
    const { instances } = await healthOfDatacenter(consul, datacenter);
    const passingNow = new Set(instances.map((instance) => instance.id));
    const count = instanceIds.filter((id) => passingNow.has(id)).length;
    return {
      observed: `Consul of ${datacenter}: ${count} of its ${instanceIds.length} instance(s) passing`,
      ok: passing ? count === instanceIds.length : count === 0,
    };
  };
}

async function healthOfDatacenter(consul: ConsulHttp, datacenter: string): Promise<HealthResult> {
  let lastError: unknown;
  for (const endpoint of consul.endpoints) {
    try {
      return await consul.healthService({ service: HELLO_SERVICE_NAME, dc: datacenter }, { endpoint });
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
