import type { ConsulHttp } from '@grpc-consul-lab/consul-discovery';
import type { Role, TargetContainer } from '../docker/docker-driver.js';
import { DATACENTER_LABEL } from '../docker/labels.js';
import { lastsItsDuration } from './action-fields.js';
import { SkippedStep, type StepContext } from './fault-kind.js';

/**
 * What the faults that take out a whole datacenter of PROFILE=multi-dc
 * (lose-datacenter, partition-datacenter, empty-datacenter) share: they run
 * on make up's stack only, are undone after `duration`, and hit the
 * containers of the scope that carry the chaos-target label AND the
 * datacenter's label (the driver refuses any other), never one outside it.
 */
export const DATACENTER_FAULT = {
  lastsMs: lastsItsDuration,
  runsOn: { compose: true, swarm: false },
  datacenterOf: (action: { readonly datacenter: string }): string => action.datacenter,
} as const;

/** The containers of one datacenter a fault takes, by role, oldest first. */
export interface DatacenterTargets {
  readonly consul: readonly TargetContainer[];
  readonly hello: readonly TargetContainer[];
}

/**
 * The running containers of `datacenter` in `roles`. Throws when there are
 * none (the step cannot apply); skips the step when another fault of the run
 * holds one of them, or when the other datacenters would keep fewer
 * available hello instances than keepAlive.
 */
export async function datacenterTargets(context: StepContext, datacenter: string, roles: readonly Role[]): Promise<DatacenterTargets> {
  const all = (await context.driver.targets()).filter((target) => target.state === 'running');
  const taken = all.filter((target) => target.datacenter === datacenter && roles.includes(target.role));
  if (taken.length === 0) {
    throw new Error(`no running ${roles.join(' or ')} container labelled ${DATACENTER_LABEL}=${datacenter} in this scope`);
  }
  if (taken.some((target) => context.underFault.has(target.containerId))) {
    throw new SkippedStep(`blast radius: another fault of this run holds a container of ${datacenter}`);
  }
  const elsewhere = all.filter(
    (target) => target.role === 'hello' && target.datacenter !== datacenter && !context.underFault.has(target.containerId),
  );
  if (elsewhere.length < context.keepAlive) {
    throw new SkippedStep(
      `blast radius: ${elsewhere.length} hello instance(s) available outside ${datacenter}, at least ${context.keepAlive} must stay untouched`,
    );
  }
  return { consul: taken.filter((target) => target.role === 'consul'), hello: taken.filter((target) => target.role === 'hello') };
}

/** The Consul API a datacenter fault reads its instances back through; throws, before anything changes, without one. */
export function consulToReadBack(context: StepContext, datacenter: string): ConsulHttp {
  if (!context.consul) throw new Error(`no Consul API to read ${datacenter}'s instances back through`);
  return context.consul;
}

/** Container names, for the step's detail and its undo's description. */
export const namesOf = (targets: readonly TargetContainer[]): string => targets.map((target) => target.name).join(', ') || 'none';
