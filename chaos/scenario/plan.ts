import { faultKindOf } from '../faults/registry.js';
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
  /** For bounded faults (those with a `lastsMs`): when the fault is undone. */
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

export function planScenario(scenario: Scenario, seed: number): Plan {
  const random = seededRandom(seed);
  const steps: Omit<PlannedStep, 'index'>[] = [];
  for (const action of scenario.method) {
    const period = action.every ?? 0;
    for (let run = 0; run < action.times; run += 1) {
      const jitter = action.jitter > 0 ? Math.round((random() * 2 - 1) * action.jitter) : 0;
      const atMs = Math.max(0, action.at + run * period + jitter);
      const pick = Math.floor(random() * 1_000_000);
      const bounded = faultKindOf(action).lastsMs?.(action);
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

/** The step in one line, as its kind words it. */
export function describeAction(action: Action): string {
  return faultKindOf(action).describe(action);
}

const seconds = (ms: number): string => `${(ms / 1_000).toFixed(1).padStart(6)} s`;

export function formatPlan(plan: Plan): string {
  const lines = plan.steps.map(
    (step) =>
      `  ${seconds(step.atMs)}  #${step.index + 1} ${describeAction(step.action)}${faultKindOf(step.action).draws?.(step.action) ? ` [pick ${step.pick}]` : ''}`,
  );
  return [
    `Plan for "${plan.title}", seed ${plan.seed}:`,
    ...lines,
    `  ${seconds(plan.methodEndsMs)}  method ends; settle, then the final verdict at ${seconds(plan.totalMs).trim()}`,
  ].join('\n');
}
