import type { DockerDriver } from '../docker/docker-driver.js';
import { DATACENTER_LABEL, isSwarmScope } from '../docker/labels.js';
import { CONSUL_DATA_DIR } from '../faults/consul-servers.js';
import type { FaultKind, StackNeed } from '../faults/fault-kind.js';
import { FAULT_KINDS, FAULT_NAMES, type FaultName, faultKindOf } from '../faults/registry.js';
import type { Scenario } from './schema.js';

/**
 * What every step of a scenario needs of the stack, checked before anything
 * changes: a step that cannot apply would otherwise fail mid-run and leave
 * a run that proves nothing (or, before runs had to prove their faults, a
 * run that "held" with no fault at all).
 */
export interface StackFacts {
  /** A Swarm stack: Swarm starts and replaces its task containers itself. */
  readonly swarm: boolean;
  /** Running hello containers labelled as chaos targets. */
  readonly hello: number;
  /** Running Consul containers labelled as chaos targets. */
  readonly consul: number;
  /** A Consul API to find the leader and write gray faults through. */
  readonly consulApi: boolean;
  /** Running containers per datacenter label (PROFILE=multi-dc); empty on a stack whose containers carry none. */
  readonly datacenters: Readonly<Record<string, { readonly hello: number; readonly consul: number }>>;
  /** Running Consul containers whose data directory is a sized volume (make up CONSUL_DATA_SIZE=64m); read only for a scenario that needs it, 0 otherwise. */
  readonly sizedConsulData: number;
}

/** The facts from the scope's labelled containers. */
export function stackFacts(
  targets: readonly { readonly role: string; readonly state: string; readonly datacenter?: string }[],
  swarm: boolean,
  consulApi: boolean,
  sizedConsulData: number,
): StackFacts {
  const running = targets.filter((target) => target.state === 'running');
  const count = (role: string, among = running): number => among.filter((target) => target.role === role).length;
  const datacenters: Record<string, { hello: number; consul: number }> = {};
  for (const name of new Set(running.map((target) => target.datacenter ?? '').filter((label) => label !== ''))) {
    const inIt = running.filter((target) => target.datacenter === name);
    datacenters[name] = { hello: count('hello', inIt), consul: count('consul', inIt) };
  }
  return { swarm, hello: count('hello'), consul: count('consul'), consulApi, datacenters, sizedConsulData };
}

/**
 * The facts of the driver's scope, read from Docker: its labelled containers
 * and, when a step of the scenario needs it, which Consul servers keep their
 * data on a sized volume (the others' runs read no volume).
 */
export async function readStackFacts(driver: DockerDriver, consulApi: boolean, scenario: Scenario): Promise<StackFacts> {
  const targets = await driver.targets();
  let sized = 0;
  if (scenario.method.some((action) => faultKindOf(action).needs.includes('sized-consul-data'))) {
    const servers = targets.filter((target) => target.role === 'consul' && target.state === 'running');
    const volumes = await Promise.all(servers.map((server) => driver.sizedVolumeAt(server, CONSUL_DATA_DIR)));
    sized = volumes.filter((volume) => volume !== undefined).length;
  }
  return stackFacts(targets, isSwarmScope(driver.scope), consulApi, sized);
}

/** The kinds, of those given, whose module says `yes`; in the order given. */
const kindsWhere = (kinds: readonly FaultName[], yes: (kind: FaultKind) => boolean): FaultName[] =>
  kinds.filter((name) => yes(FAULT_KINDS[name]));

const list = (kinds: readonly FaultName[]): string => kinds.join(', ');

/** The kinds of the scenario's steps that draw a hello instance (a network toxic does only `on: instance`). */
const drawingAnInstance = (scenario: Scenario): FaultName[] => [
  ...new Set(scenario.method.filter((action) => faultKindOf(action).draws?.(action) === 'hello instance').map((action) => action.action)),
];
const needs = (kinds: readonly FaultName[]): string => `${list(kinds)} need${kinds.length === 1 ? 's' : ''}`;

/** A rule: the kinds of the scenario it concerns, whether the stack fails it, and the line that says so. */
type Rule = readonly [affected: readonly FaultName[], failing: boolean, says: (affected: readonly FaultName[]) => string];

/**
 * Why some step of the scenario cannot apply on this stack, in one line;
 * undefined when every step can. Each kind says where it runs and what it
 * needs (faults/<kind>.ts); the rules, in the order they are checked, say
 * what a stack that lacks it lacks.
 */
export function unmetPrecondition(scenario: Scenario, stack: StackFacts): string | undefined {
  const kinds = [...new Set(scenario.method.map((action) => action.action))];
  const where = (yes: (kind: FaultKind) => boolean): FaultName[] => kindsWhere(kinds, yes);
  const needing = (need: StackNeed): FaultName[] => where((kind) => kind.needs.includes(need));
  const { keepAlive } = scenario;
  const rules: Rule[] = [
    [
      where((kind) => !kind.runsOn.swarm),
      stack.swarm,
      (affected) =>
        `${list(affected)} cannot run on a Swarm stack (Swarm starts and replaces its task containers); there: ${list(kindsWhere(FAULT_NAMES, (kind) => kind.runsOn.swarm))}`,
    ],
    [
      where((kind) => !kind.runsOn.compose),
      !stack.swarm,
      (affected) => `${needs(affected)} a Swarm stack: make swarm-up, then --stack NAME (make chaos ON=swarm)`,
    ],
    [
      needing('consul-cluster'),
      stack.consul < 3,
      (affected) => `${needs(affected)} the 3 Consul servers of PROFILE=ha; this stack has ${stack.consul} (make up PROFILE=ha)`,
    ],
    [
      needing('consul-container'),
      stack.consul === 0,
      (affected) => `${needs(affected)} a running Consul container labelled as a chaos target; this stack has none`,
    ],
    [
      needing('sized-consul-data'),
      stack.sizedConsulData === 0,
      (affected) =>
        `${needs(affected)} Consul's data directory on a sized volume of this stack, so that filling it cannot fill this machine's disk; this stack's is not on one (make up CONSUL_DATA_SIZE=64m)`,
    ],
    [needing('consul-api'), !stack.consulApi, (affected) => `${needs(affected)} Consul's API (--consul-url)`],
    [
      // A drawn hello instance is taken out of service: the blast radius must leave one to take.
      drawingAnInstance(scenario),
      stack.hello <= keepAlive,
      (affected) =>
        `${needs(affected)} more running hello instances than keepAlive (${keepAlive}) leaves untouched; this stack has ${stack.hello}`,
    ],
    [needing('keep-alive-0'), keepAlive > 0, (affected) => `${needs(affected)} keepAlive: 0 (it is ${keepAlive})`],
    [needing('hello-to-copy'), stack.hello === 0, (affected) => `${needs(affected)} a running hello instance to copy`],
    [
      needing('two-datacenters'),
      Object.keys(stack.datacenters).length < 2,
      (affected) =>
        `${needs(affected)} two datacenters, their containers labelled ${DATACENTER_LABEL} (make up PROFILE=multi-dc); this stack has ${datacentersOf(stack)}`,
    ],
  ];
  const unmet = rules.find(([affected, failing]) => affected.length > 0 && failing);
  return unmet ? unmet[2](unmet[0]) : unmetDatacenter(scenario, stack);
}

const datacentersOf = (stack: StackFacts): string => {
  const names = Object.keys(stack.datacenters).sort();
  return names.length === 0 ? 'none' : `only ${names.join(', ')}`;
};

/**
 * A step that takes out a datacenter needs instances in it to take out, and
 * instances in the others to carry the calls meanwhile (keepAlive of them
 * at least, the blast radius).
 */
function unmetDatacenter({ method, keepAlive }: Scenario, stack: StackFacts): string | undefined {
  for (const action of method) {
    const taken = faultKindOf(action).datacenterOf?.(action);
    if (taken === undefined) continue;
    const names = Object.keys(stack.datacenters).sort().join(', ');
    if ((stack.datacenters[taken]?.hello ?? 0) === 0) {
      return `${action.action} takes out datacenter ${taken}, which has no running hello instance on this stack (its datacenters: ${names})`;
    }
    const elsewhere = Object.entries(stack.datacenters)
      .filter(([name]) => name !== taken)
      .reduce((sum, [, counts]) => sum + counts.hello, 0);
    if (elsewhere === 0)
      return `${action.action} of ${taken} leaves no running hello instance in the other datacenters to answer the calls`;
    if (elsewhere < keepAlive) {
      return `${action.action} of ${taken} leaves ${elsewhere} running hello instance(s) in the other datacenters, fewer than keepAlive (${keepAlive})`;
    }
  }
  return undefined;
}
