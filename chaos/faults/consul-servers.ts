import { z } from 'zod';
import type { TargetContainer } from '../docker/docker-driver.js';
import { containerIs } from '../engine/read-back.js';
import { duration } from '../scenario/duration.js';
import { lastsItsDuration, timing } from './action-fields.js';
import { SkippedStep, type StepContext, type StepOutcome } from './fault-kind.js';
import { inPreferredDatacenter } from './hello-targets.js';
import { willTakeDown } from './take-down.js';

/** Where the lab's Consul servers keep their state (consul/server.hcl's data_dir). */
export const CONSUL_DATA_DIR = '/consul/data';

/**
 * What the faults on PROFILE=ha's Consul servers (kill-consul-leader,
 * kill-consul-follower, consul-quorum-loss) share: the servers are found
 * through Consul's API, they run on make up's stack only, and each is undone
 * (the servers started again, with their state) after `duration`.
 */
export function consulServerSchema<Name extends string>(name: Name, lasts: string) {
  return z.object({ action: z.literal(name), duration: duration.prefault(lasts), ...timing }).strict();
}

export const CONSUL_SERVER_FAULT = {
  lastsMs: lastsItsDuration,
  runsOn: { compose: true, swarm: false },
  needs: ['consul-cluster', 'consul-api'],
} as const;

/** The running Consul servers of the scope, the Raft leader apart (asked of Consul itself). */
export async function consulServers(context: StepContext): Promise<{ leader: TargetContainer | undefined; followers: TargetContainer[] }> {
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
export async function killConsulServer(context: StepContext, server: TargetContainer, role: string): Promise<StepOutcome> {
  willTakeDown(context, server);
  await context.driver.kill(server, 'SIGKILL');
  return {
    targets: [server.name],
    newInstances: [],
    detail: `SIGKILL ${role} ${server.name} (${server.ip})`,
    proof: containerIs(context.driver, server, 'down'),
  };
}

/**
 * The running Consul server of the preferred datacenter, the first by name
 * (dc1's of PROFILE=multi-dc; consul-1 of PROFILE=ha, not whichever Compose
 * happened to create first); throws without one, skips one under another fault.
 */
export async function preferredConsulServer(context: StepContext): Promise<TargetContainer> {
  const servers = inPreferredDatacenter((await context.driver.targets('consul')).filter((server) => server.state === 'running'));
  const [server] = servers.sort((a, b) => a.name.localeCompare(b.name));
  if (!server) throw new Error('no running Consul container labelled as a chaos target in this scope');
  if (context.underFault.has(server.containerId)) throw new SkippedStep(`${server.name} is under another fault of this run`);
  return server;
}
