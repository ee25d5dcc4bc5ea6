import { NEEDS_CONSUL_CLUSTER, ON_SWARM, ONLY_ON_SWARM, PICKS } from './plan.js';
import type { ActionKind, Scenario } from './schema.js';

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

/** Faults that take one hello instance out of service (those drawn with the seed, but Consul's): the blast radius must leave one to take. */
const TAKES_ONE_HELLO = new Set<ActionKind>([...PICKS].filter((kind) => !NEEDS_CONSUL_CLUSTER.has(kind)));
const NEEDS_CONSUL_API = new Set<ActionKind>(['slow', 'flaky', 'corrupt', 'unhealthy', ...NEEDS_CONSUL_CLUSTER]);

const list = (kinds: readonly ActionKind[]): string => kinds.join(', ');
const needs = (kinds: readonly ActionKind[]): string => `${list(kinds)} need${kinds.length === 1 ? 's' : ''}`;

/** A rule: the kinds of the scenario it concerns, whether the stack fails it, and the line that says so. */
type Rule = readonly [affected: readonly ActionKind[], failing: boolean, says: (affected: readonly ActionKind[]) => string];

/** Why some step of the scenario cannot apply on this stack, in one line; undefined when every step can. */
export function unmetPrecondition(scenario: Scenario, stack: StackFacts): string | undefined {
  const kinds = [...new Set(scenario.method.map((action) => action.action))];
  const inSet = (set: ReadonlySet<ActionKind>): ActionKind[] => kinds.filter((kind) => set.has(kind));
  const named = (...names: ActionKind[]): ActionKind[] => kinds.filter((kind) => names.includes(kind));
  const { keepAlive } = scenario;
  const rules: Rule[] = [
    [
      kinds.filter((kind) => !ON_SWARM.has(kind)),
      stack.swarm,
      (affected) =>
        `${list(affected)} cannot run on a Swarm stack (Swarm starts and replaces its task containers); there: ${[...ON_SWARM].join(', ')}`,
    ],
    [
      inSet(ONLY_ON_SWARM),
      !stack.swarm,
      (affected) => `${needs(affected)} a Swarm stack: make swarm-up, then --stack NAME (make chaos ON=swarm)`,
    ],
    [
      inSet(NEEDS_CONSUL_CLUSTER),
      stack.consul < 3,
      (affected) => `${needs(affected)} the 3 Consul servers of PROFILE=ha; this stack has ${stack.consul} (make up PROFILE=ha)`,
    ],
    [
      named('restart-consul'),
      stack.consul === 0,
      (affected) => `${needs(affected)} a running Consul container labelled as a chaos target; this stack has none`,
    ],
    [inSet(NEEDS_CONSUL_API), !stack.consulApi, (affected) => `${needs(affected)} Consul's API (--consul-url)`],
    [
      inSet(TAKES_ONE_HELLO),
      stack.hello <= keepAlive,
      (affected) =>
        `${needs(affected)} more running hello instances than keepAlive (${keepAlive}) leaves untouched; this stack has ${stack.hello}`,
    ],
    [named('replace-all'), keepAlive > 0, (affected) => `${needs(affected)} keepAlive: 0 (it is ${keepAlive})`],
    [named('scale', 'replace-all'), stack.hello === 0, (affected) => `${needs(affected)} a running hello instance to copy`],
  ];
  const unmet = rules.find(([affected, failing]) => affected.length > 0 && failing);
  return unmet && unmet[2](unmet[0]);
}
