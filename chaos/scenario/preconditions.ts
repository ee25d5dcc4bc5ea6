import type { FaultKind, StackNeed } from '../faults/fault-kind.js';
import { FAULT_KINDS, FAULT_NAMES, type FaultName } from '../faults/registry.js';
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
}

/** The facts from the scope's labelled containers. */
export function stackFacts(
  targets: readonly { readonly role: string; readonly state: string }[],
  swarm: boolean,
  consulApi: boolean,
): StackFacts {
  const running = (role: string): number => targets.filter((target) => target.role === role && target.state === 'running').length;
  return { swarm, hello: running('hello'), consul: running('consul'), consulApi };
}

/** The kinds, of those given, whose module says `yes`; in the order given. */
const kindsWhere = (kinds: readonly FaultName[], yes: (kind: FaultKind) => boolean): FaultName[] =>
  kinds.filter((name) => yes(FAULT_KINDS[name]));

const list = (kinds: readonly FaultName[]): string => kinds.join(', ');
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
    [needing('consul-api'), !stack.consulApi, (affected) => `${needs(affected)} Consul's API (--consul-url)`],
    [
      // A drawn hello instance is taken out of service: the blast radius must leave one to take.
      where((kind) => kind.draws === 'hello instance'),
      stack.hello <= keepAlive,
      (affected) =>
        `${needs(affected)} more running hello instances than keepAlive (${keepAlive}) leaves untouched; this stack has ${stack.hello}`,
    ],
    [needing('keep-alive-0'), keepAlive > 0, (affected) => `${needs(affected)} keepAlive: 0 (it is ${keepAlive})`],
    [needing('hello-to-copy'), stack.hello === 0, (affected) => `${needs(affected)} a running hello instance to copy`],
  ];
  const unmet = rules.find(([affected, failing]) => affected.length > 0 && failing);
  return unmet && unmet[2](unmet[0]);
}
