import type { TargetContainer } from '../docker/docker-driver.js';
import type { TargetPolicy } from './action-fields.js';
import { type FaultStep, SkippedStep, type StepContext } from './fault-kind.js';

/** How faults find hello instances to hit, and ports for the ones they start. */

/** Running hello instances no other fault holds, oldest first. */
export async function available(context: StepContext): Promise<TargetContainer[]> {
  return (await context.driver.targets('hello')).filter(
    (target) => target.state === 'running' && !context.underFault.has(target.containerId),
  );
}

/**
 * With datacenters (PROFILE=multi-dc), the instances of the first by name:
 * dc1, the one the client prefers. The others are in reserve, and a fault
 * on an instance nobody calls would show nothing. Without datacenter
 * labels (Swarm), or with one, every instance.
 */
export function inPreferredDatacenter(candidates: readonly TargetContainer[]): TargetContainer[] {
  const [preferred] = datacentersOf(candidates);
  return candidates.filter((candidate) => candidate.datacenter === preferred);
}

/** The datacenters of these containers, by name; [''] for containers without datacenter labels. */
export function datacentersOf(targets: readonly TargetContainer[]): string[] {
  return [...new Set(targets.map((target) => target.datacenter))].sort();
}

/** One available instance (of the preferred datacenter), by the step's policy and seeded draw; skipped when taking it would leave fewer than keepAlive. */
export async function pickTarget(step: FaultStep<{ readonly target: TargetPolicy }>, context: StepContext): Promise<TargetContainer> {
  const candidates = inPreferredDatacenter(await available(context));
  if (candidates.length === 0) throw new SkippedStep('no available hello instance');
  if (candidates.length - 1 < context.keepAlive) {
    throw new SkippedStep(`blast radius: ${candidates.length} available, at least ${context.keepAlive} must stay untouched`);
  }
  const policy = step.action.target;
  if (policy === 'oldest') return candidates[0] as TargetContainer;
  if (policy === 'newest') return candidates[candidates.length - 1] as TargetContainer;
  return candidates[step.pick % candidates.length] as TargetContainer;
}

/** The next free port above every hello instance's, stepping like the seed (port + 5); step 0 keeps the port. */
export async function nextPort(context: StepContext, from: number, step: number): Promise<number> {
  if (step === 0) return from;
  const used = new Set((await context.driver.targets('hello')).map((target) => target.port));
  let port = from + step;
  while (used.has(port)) port += step;
  return port;
}
