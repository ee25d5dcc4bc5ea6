import type { Action, Scenario } from './schema.js';

/**
 * Turns a scenario and a seed into a concrete timeline. Everything random
 * (jitter, which instance is hit) is drawn here, from a seeded generator, so
 * the same seed prints, and runs, the same plan.
 */
export interface PlannedStep {
  readonly index: number;
  readonly atMs: number;
  readonly action: Action;
  /** A seeded draw that picks the target among the live instances at run time. */
  readonly pick: number;
  /** For bounded faults (pause, disconnect): when the fault is undone. */
  readonly untilMs?: number;
}

export interface Plan {
  readonly title: string;
  readonly seed: number;
  readonly steps: readonly PlannedStep[];
  /** When the method ends and the settle period begins. */
  readonly methodEndsMs: number;
  readonly totalMs: number;
}

/** mulberry32: a small, well-mixed 32-bit generator; enough for schedules, not for secrets. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function boundedDurationMs(action: Action): number | undefined {
  switch (action.action) {
    case 'pause':
    case 'partition':
    case 'disconnect':
    case 'slow':
    case 'flaky':
    case 'corrupt':
    case 'unhealthy':
    case 'kill-consul-leader':
    case 'kill-consul-follower':
    case 'consul-quorum-loss':
      return action.duration;
  }
  return undefined;
}

export function planScenario(scenario: Scenario, seed: number): Plan {
  const random = seededRandom(seed);
  const steps: Omit<PlannedStep, 'index'>[] = [];
  for (const action of scenario.method) {
    const period = action.every ?? 0;
    for (let run = 0; run < action.times; run += 1) {
      const jitter = action.jitter > 0 ? Math.round((random() * 2 - 1) * action.jitter) : 0;
      const atMs = Math.max(0, action.at + run * period + jitter);
      const pick = Math.floor(random() * 1_000_000);
      const bounded = boundedDurationMs(action);
      steps.push({ atMs, action, pick, ...(bounded !== undefined && { untilMs: atMs + bounded }) });
    }
  }
  steps.sort((a, b) => a.atMs - b.atMs);
  const methodEndsMs = Math.max(...steps.map((step) => step.untilMs ?? step.atMs));
  return {
    title: scenario.title,
    seed,
    steps: steps.map((step, index) => ({ ...step, index })),
    methodEndsMs,
    totalMs: methodEndsMs + scenario.settle,
  };
}

export function describeAction(action: Action): string {
  switch (action.action) {
    case 'kill':
      return `kill ${action.target} instance with ${action.signal}`;
    case 'stop':
      return `stop ${action.target} instance (timeout ${action.timeout} ms)`;
    case 'reschedule':
      return `kill ${action.target} Swarm task with ${action.signal}; Swarm starts a new one`;
    case 'replace':
      return `replace ${action.target} instance (${action.how === 'kill' ? action.signal : 'graceful stop'}) by a new one on ${action.portStep === 0 ? 'the same port' : `port +${action.portStep}`}`;
    case 'pause':
      return `pause ${action.target} instance for ${action.duration} ms`;
    case 'partition':
      return `partition ${action.target} instance (every packet dropped) for ${action.duration} ms`;
    case 'disconnect':
      return `disconnect ${action.target} instance from its network for ${action.duration} ms`;
    case 'restart-consul':
      return `restart Consul (down ${action.downtime} ms)`;
    case 'slow':
      return `slow ${action.target} instance by ${action.delay} ms${action.delayJitter > 0 ? ` ± ${action.delayJitter} ms` : ''} for ${action.duration} ms`;
    case 'flaky':
      return `make ${action.target} instance answer ${Math.round(action.ratio * 100)} % of calls ${action.code} for ${action.duration} ms`;
    case 'corrupt':
      return `make ${action.target} instance answer wrong sums for ${action.duration} ms`;
    case 'unhealthy':
      return `make ${action.target} instance report NOT_SERVING (still answering) for ${action.duration} ms`;
    case 'kill-consul-leader':
      return `SIGKILL the Consul leader, start it again after ${action.duration} ms`;
    case 'kill-consul-follower':
      return `SIGKILL a Consul follower, start it again after ${action.duration} ms`;
    case 'consul-quorum-loss':
      return `stop 2 of the 3 Consul servers (no quorum) for ${action.duration} ms`;
    case 'scale':
      return `scale hello instances to ${action.to}`;
    case 'replace-all':
      return `stop every hello instance, wait ${action.downtime} ms, start all again on port +${action.portStep}`;
  }
}

const seconds = (ms: number): string => `${(ms / 1_000).toFixed(1).padStart(6)} s`;

/** Actions whose target is drawn with the seed (the plan prints the draw). */
export const PICKS = new Set<Action['action']>([
  'kill',
  'stop',
  'reschedule',
  'replace',
  'pause',
  'partition',
  'disconnect',
  'slow',
  'flaky',
  'corrupt',
  'unhealthy',
  'kill-consul-follower',
  'consul-quorum-loss',
]);

/**
 * What a run may do on a Swarm stack: Swarm starts, stops and replaces task
 * containers itself, so the runner only hurts running ones (and leaves the
 * replacing to Swarm); `reschedule` exists only there.
 */
export const ON_SWARM = new Set<Action['action']>(['reschedule', 'pause', 'partition', 'slow', 'flaky', 'corrupt', 'unhealthy']);
export const ONLY_ON_SWARM = new Set<Action['action']>(['reschedule']);

/** Actions that need PROFILE=ha's three Consul servers. */
export const NEEDS_CONSUL_CLUSTER = new Set<Action['action']>(['kill-consul-leader', 'kill-consul-follower', 'consul-quorum-loss']);

export function formatPlan(plan: Plan): string {
  const lines = plan.steps.map(
    (step) =>
      `  ${seconds(step.atMs)}  #${step.index + 1} ${describeAction(step.action)}${PICKS.has(step.action.action) ? ` [pick ${step.pick}]` : ''}`,
  );
  return [
    `Plan for "${plan.title}", seed ${plan.seed}:`,
    ...lines,
    `  ${seconds(plan.methodEndsMs)}  method ends; settle, then the final verdict at ${seconds(plan.totalMs).trim()}`,
  ].join('\n');
}
