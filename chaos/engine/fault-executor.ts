import type { ConsulHttp } from '@grpc-consul-lab/consul-discovery';
import { describeGrayFault, faultKey, type GrayFault } from '../../services/lib/gray-fault.js';
import type { Action } from '../scenario/schema.js';
import type { PlannedStep } from '../scenario/plan.js';
import type { DockerDriver, TargetContainer } from '../docker/docker-driver.js';
import { allOf, containerIs, kvHolds, networksOf, type ReadBack, restartedSince, trafficDropped } from './read-back.js';

/**
 * Carries out one planned step against the labelled containers. A fault that
 * leaves something broken (stopped, paused, disconnected) registers its undo
 * with `willUndo` *before* it acts, so a fault that fails halfway (container
 * gone, Docker error) is rolled back as far as it got: undos are written to
 * be safe on a fault that did not happen (start a running container, unpause
 * one not paused, reconnect a connected one, delete a missing key).
 *
 * Each step and each undo also says how to prove it (`proof`, read-back.ts):
 * what to read back from Docker or Consul once it ran. The runner reads it
 * and journals what it saw.
 */
export interface Undo {
  readonly description: string;
  readonly run: () => Promise<void>;
  /** Read back after `run`: the fault is gone. */
  readonly proof: ReadBack;
}

export interface StepOutcome {
  readonly targets: string[];
  readonly newInstances: string[];
  readonly detail: string;
  /** Read back once the step returned: the fault is in place (or, for a replacement, the new containers run). */
  readonly proof: ReadBack;
}

/**
 * A step left out on purpose by the scenario's own rules: the blast radius
 * (keepAlive), or every candidate already under another of its faults. Not a
 * failure; a step that cannot apply on this stack (no Consul cluster, no
 * leader, no Consul API) throws a plain Error and fails.
 */
export class SkippedStep extends Error {}

export interface ExecutorContext {
  readonly driver: DockerDriver;
  readonly keepAlive: number;
  /** Containers under a fault right now: never picked again, never counted as available. */
  readonly underFault: Set<string>;
  readonly sleep: (ms: number) => Promise<void>;
  /** Consul's API: the Raft leader is found through it. */
  readonly consul?: ConsulHttp;
}

/** What a handler is given: the run's context and where its undo goes before it acts. */
export interface StepContext extends ExecutorContext {
  /**
   * Registers an undo of what the handler is about to do. The runner runs it at
   * the step's `untilMs` or the end of the run, or at once if the step fails.
   * The returned function withdraws it (the fault ended by itself).
   */
  readonly willUndo: (undo: Undo) => () => void;
}

const HEALTHY_TIMEOUT_MS = 60_000;

async function available(context: ExecutorContext): Promise<TargetContainer[]> {
  return (await context.driver.targets('hello')).filter(
    (target) => target.state === 'running' && !context.underFault.has(target.containerId),
  );
}

async function pickTarget(step: PlannedStep, context: ExecutorContext, takesOut: boolean): Promise<TargetContainer> {
  const candidates = await available(context);
  if (candidates.length === 0) throw new SkippedStep('no available hello instance');
  if (takesOut && candidates.length - 1 < context.keepAlive) {
    throw new SkippedStep(`blast radius: ${candidates.length} available, at least ${context.keepAlive} must stay untouched`);
  }
  const action = step.action;
  const policy = 'target' in action ? action.target : 'random';
  if (policy === 'oldest') return candidates[0] as TargetContainer;
  if (policy === 'newest') return candidates[candidates.length - 1] as TargetContainer;
  return candidates[step.pick % candidates.length] as TargetContainer;
}

/** The next free port above every hello instance's, stepping like the seed (port + 5); step 0 keeps the port. */
async function nextPort(context: ExecutorContext, from: number, step: number): Promise<number> {
  if (step === 0) return from;
  const used = new Set((await context.driver.targets('hello')).map((target) => target.port));
  let port = from + step;
  while (used.has(port)) port += step;
  return port;
}

/**
 * A container about to be killed or stopped: it is started again when the
 * fault is undone. Returns what says it is gone for good (removed after its
 * replacement started), so there is nothing to start again.
 */
function willTakeDown(context: StepContext, target: TargetContainer): () => void {
  context.underFault.add(target.containerId);
  const withdraw = context.willUndo({
    description: `start ${target.name} again`,
    run: () => context.driver.start(target).finally(() => context.underFault.delete(target.containerId)),
    proof: containerIs(context.driver, target, 'running'),
  });
  return () => {
    withdraw();
    context.underFault.delete(target.containerId);
  };
}

/** The running Consul servers of the scope, the Raft leader apart (asked of Consul itself). */
async function consulServers(context: ExecutorContext): Promise<{ leader: TargetContainer | undefined; followers: TargetContainer[] }> {
  const running = (await context.driver.targets('consul')).filter((target) => target.state === 'running');
  if (running.length < 3) throw new Error(`${running.length} Consul server(s) running: this fault needs the 3 of PROFILE=ha`);
  const servers = running.filter((target) => !context.underFault.has(target.containerId));
  if (servers.length < 3) throw new SkippedStep(`blast radius: another fault of this run holds a Consul server`);
  if (!context.consul) throw new Error('no Consul API to find the leader through');
  // The agent asked may be the one that is down: every agent gets a turn.
  let leaderAddress = '';
  for (let attempt = 0; attempt < context.consul.endpoints.length && leaderAddress === ''; attempt += 1) {
    leaderAddress = await context.consul.leader().catch(() => '');
  }
  const leaderIp = leaderAddress.split(':')[0];
  return { leader: servers.find((server) => server.ip === leaderIp), followers: servers.filter((server) => server.ip !== leaderIp) };
}

/** SIGKILLs a Consul server; it starts again (with its state) when the fault is undone. */
async function killConsulServer(context: StepContext, server: TargetContainer, role: string): Promise<StepOutcome> {
  willTakeDown(context, server);
  await context.driver.kill(server, 'SIGKILL');
  return {
    targets: [server.name],
    newInstances: [],
    detail: `SIGKILL ${role} ${server.name} (${server.ip})`,
    proof: containerIs(context.driver, server, 'down'),
  };
}

/** The old containers removed and the new ones running: what a replacement or a scale leaves. */
function replacedBy(driver: DockerDriver, old: readonly TargetContainer[], started: readonly TargetContainer[]): ReadBack {
  return allOf([
    ...old.map((target) => containerIs(driver, target, 'gone')),
    ...started.map((target) => containerIs(driver, target, 'running')),
  ]);
}

/**
 * Waits for every action, then throws the first failure: a rollback must not
 * start while a stop it would undo is still under way (it would start a
 * container that the stop then takes down for good).
 */
async function settleAll(actions: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(actions)).find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/** The gray fault an action sets, or undefined for an action of another kind. */
function grayFaultOf(action: Action): GrayFault | undefined {
  switch (action.action) {
    case 'slow':
      return { kind: 'slow', delayMs: action.delay, jitterMs: action.delayJitter };
    case 'flaky':
      return { kind: 'flaky', ratio: action.ratio, code: action.code };
    case 'corrupt':
      return { kind: 'corrupt' };
    case 'unhealthy':
      return { kind: 'unhealthy' };
    default:
      return undefined;
  }
}

/**
 * Sets a gray fault on one instance through its KV key; the undo deletes the
 * key. A write that fails may still have landed (no answer is not no write):
 * the undo, registered first, deletes it either way.
 */
async function setGrayFault(step: PlannedStep, context: StepContext, fault: GrayFault): Promise<StepOutcome> {
  const consul = context.consul;
  if (!consul) throw new Error('no Consul API to set a gray fault through');
  const target = await pickTarget(step, context, true);
  const key = faultKey(target.instanceId);
  const value = JSON.stringify(fault);
  context.underFault.add(target.containerId);
  context.willUndo({
    description: `clear the gray fault on ${target.name}`,
    run: () => consul.kvDelete(key).finally(() => context.underFault.delete(target.containerId)),
    proof: kvHolds(consul, key, undefined),
  });
  await consul.kvPut(key, value);
  return {
    targets: [target.instanceId],
    newInstances: [],
    detail: `${describeGrayFault(fault)} on ${target.name} (${target.ip}:${target.port})`,
    proof: kvHolds(consul, key, value),
  };
}

export async function applyStep(step: PlannedStep, context: StepContext): Promise<StepOutcome> {
  const { driver } = context;
  const action = step.action;
  switch (action.action) {
    case 'kill': {
      const target = await pickTarget(step, context, true);
      willTakeDown(context, target);
      await driver.kill(target, action.signal);
      return {
        targets: [target.instanceId],
        newInstances: [],
        detail: `${action.signal} ${target.name}`,
        proof: containerIs(driver, target, 'down'),
      };
    }
    case 'stop': {
      const target = await pickTarget(step, context, true);
      willTakeDown(context, target);
      await driver.stop(target, action.timeout);
      return {
        targets: [target.instanceId],
        newInstances: [],
        detail: `stopped ${target.name}`,
        proof: containerIs(driver, target, 'down'),
      };
    }
    case 'reschedule': {
      const target = await pickTarget(step, context, true);
      if (target.swarmService === '') throw new Error(`${target.name} is not a Swarm task`);
      const killedAt = Date.now();
      await driver.kill(target, action.signal);
      // Nothing to undo: starting the dead task again is Swarm's job, and what is measured.
      const replacement = await driver.swarmReplacement(target, killedAt, HEALTHY_TIMEOUT_MS);
      return {
        targets: [target.instanceId],
        newInstances: replacement ? [replacement.instanceId] : [],
        detail: replacement
          ? `${action.signal} ${target.name} (${target.ip}:${target.port}); Swarm started ${replacement.name} (${replacement.ip}:${replacement.port}), healthy ${((Date.now() - killedAt) / 1_000).toFixed(1)} s after the kill`
          : `${action.signal} ${target.name}; Swarm started NO healthy replacement within ${HEALTHY_TIMEOUT_MS / 1_000} s`,
        // The fault is the kill; whether Swarm replaced it is what the run measures (newInstances).
        proof: containerIs(driver, target, 'down'),
      };
    }
    case 'replace': {
      const target = await pickTarget(step, context, true);
      // Until its replacement runs, the old container is the one to bring back.
      const replaced = willTakeDown(context, target);
      if (action.how === 'kill') await driver.kill(target, action.signal);
      else await driver.stop(target, 10_000);
      const port = await nextPort(context, target.port, action.portStep);
      const replacement = await driver.startLike(target, port);
      await driver.remove(target);
      replaced();
      const healthy = await driver.waitHealthy(replacement, HEALTHY_TIMEOUT_MS);
      return {
        targets: [target.instanceId],
        newInstances: [replacement.instanceId],
        detail: `${target.name} (${target.ip}:${target.port}) -> ${replacement.name} (${replacement.ip}:${replacement.port})${healthy ? '' : ' NOT healthy'}`,
        proof: replacedBy(driver, [target], [replacement]),
      };
    }
    case 'pause': {
      const target = await pickTarget(step, context, true);
      context.underFault.add(target.containerId);
      context.willUndo({
        description: `unpause ${target.name}`,
        run: () => driver.unpause(target).finally(() => context.underFault.delete(target.containerId)),
        proof: containerIs(driver, target, 'running'),
      });
      await driver.pause(target);
      return {
        targets: [target.instanceId],
        newInstances: [],
        detail: `paused ${target.name}`,
        proof: containerIs(driver, target, 'paused'),
      };
    }
    case 'partition': {
      const target = await pickTarget(step, context, true);
      context.underFault.add(target.containerId);
      context.willUndo({
        description: `let ${target.name}'s packets through again`,
        run: () => driver.restoreTraffic(target).finally(() => context.underFault.delete(target.containerId)),
        proof: trafficDropped(driver, target, false),
      });
      await driver.dropTraffic(target);
      return {
        targets: [target.instanceId],
        newInstances: [],
        detail: `dropping every packet of ${target.name} (${target.ip}:${target.port})`,
        proof: trafficDropped(driver, target, true),
      };
    }
    case 'disconnect': {
      const target = await pickTarget(step, context, true);
      const aliases = await driver.aliases(target);
      context.underFault.add(target.containerId);
      context.willUndo({
        description: `reconnect ${target.name}`,
        run: async () => {
          try {
            for (const network of target.networks) await driver.reconnect(target, network, aliases[network] ?? []);
          } finally {
            context.underFault.delete(target.containerId);
          }
        },
        proof: networksOf(driver, target, true),
      });
      for (const network of target.networks) await driver.disconnect(target, network);
      return {
        targets: [target.instanceId],
        newInstances: [],
        detail: `disconnected ${target.name} (${target.ip}:${target.port}) from ${target.networks.join(', ')}`,
        proof: networksOf(driver, target, false),
      };
    }
    case 'slow':
    case 'flaky':
    case 'corrupt':
    case 'unhealthy':
      return setGrayFault(step, context, grayFaultOf(action) as GrayFault);
    case 'restart-consul': {
      const [consul] = await driver.targets('consul');
      if (!consul) throw new Error('no labelled consul container in this scope');
      const startAgain = context.willUndo({
        description: `start ${consul.name} again`,
        run: () => driver.start(consul),
        proof: containerIs(driver, consul, 'running'),
      });
      const stoppingAt = Date.now();
      await driver.stop(consul, 2_000);
      await context.sleep(action.downtime);
      await driver.start(consul);
      startAgain();
      const healthy = await driver.waitHealthy(consul, HEALTHY_TIMEOUT_MS);
      return {
        targets: [consul.name],
        newInstances: [],
        detail: `consul down ${action.downtime} ms${healthy ? '' : ', NOT healthy after'}`,
        // Down and back within the step: a start later than the stop.
        proof: restartedSince(driver, consul, stoppingAt),
      };
    }
    case 'kill-consul-leader': {
      const { leader } = await consulServers(context);
      if (!leader) throw new Error('no Consul server is the leader now (an election is under way)');
      return killConsulServer(context, leader, 'the Consul leader');
    }
    case 'kill-consul-follower': {
      const { followers } = await consulServers(context);
      const follower = followers[step.pick % followers.length];
      if (!follower) throw new Error('no Consul follower');
      return killConsulServer(context, follower, 'Consul follower');
    }
    case 'consul-quorum-loss': {
      const { leader, followers } = await consulServers(context);
      const servers = leader ? [...followers, leader] : followers;
      // Two of three, drawn with the seed: the one left cannot form a quorum alone.
      const kept = servers[step.pick % servers.length];
      const stopped = servers.filter((server) => server !== kept);
      for (const server of stopped) context.underFault.add(server.containerId);
      context.willUndo({
        description: `start ${stopped.map((server) => server.name).join(' and ')} again`,
        run: async () => {
          try {
            await settleAll(stopped.map((server) => context.driver.start(server)));
          } finally {
            for (const server of stopped) context.underFault.delete(server.containerId);
          }
        },
        proof: allOf(stopped.map((server) => containerIs(context.driver, server, 'running'))),
      });
      await settleAll(stopped.map((server) => context.driver.stop(server, 2_000)));
      return {
        targets: stopped.map((server) => server.name),
        newInstances: [],
        detail: `stopped ${stopped.map((server) => server.name).join(' and ')}; ${kept?.name} alone has no quorum`,
        proof: allOf(stopped.map((server) => containerIs(context.driver, server, 'down'))),
      };
    }
    case 'scale': {
      const current = await available(context);
      const started: TargetContainer[] = [];
      const template = current[current.length - 1];
      if (!template) throw new SkippedStep('no hello instance to scale from');
      for (let count = current.length; count < action.to; count += 1) {
        started.push(await driver.startLike(template, await nextPort(context, template.port, action.portStep)));
      }
      const floor = Math.max(action.to, context.keepAlive);
      const removed = current.slice(floor).reverse();
      for (const victim of removed) {
        await driver.stop(victim, 10_000);
        await driver.remove(victim);
      }
      for (const target of started) await driver.waitHealthy(target, HEALTHY_TIMEOUT_MS);
      const startedNames = started.map((target) => `${target.name} (${target.ip}:${target.port})`);
      return {
        targets: removed.map((victim) => victim.instanceId),
        newInstances: started.map((target) => target.instanceId),
        detail: `scaled ${current.length} -> ${current.length + started.length - removed.length}${startedNames.length > 0 ? `, started ${startedNames.join(', ')}` : ''}`,
        proof: replacedBy(driver, removed, started),
      };
    }
    case 'replace-all': {
      const all = await available(context);
      if (context.keepAlive > 0) throw new Error(`replace-all needs keepAlive: 0 (it is ${context.keepAlive})`);
      if (all.length === 0) throw new SkippedStep('no hello instance');
      const replaced = new Map(all.map((target) => [target.containerId, willTakeDown(context, target)]));
      await settleAll(all.map((target) => driver.stop(target, 10_000)));
      await context.sleep(action.downtime);
      const newInstances: string[] = [];
      const started: TargetContainer[] = [];
      for (const target of all) {
        const replacement = await driver.startLike(target, await nextPort(context, target.port, action.portStep));
        started.push(replacement);
        newInstances.push(replacement.instanceId);
        await driver.remove(target);
        replaced.get(target.containerId)?.();
      }
      await Promise.all(started.map((target) => driver.waitHealthy(target, HEALTHY_TIMEOUT_MS)));
      return {
        targets: all.map((target) => target.instanceId),
        newInstances,
        detail: `${all.length} instances stopped, back on new ports after ${action.downtime} ms`,
        proof: replacedBy(driver, all, started),
      };
    }
  }
}
