import type { Journal } from '../../chaos/engine/journal.js';

/** Counters a scenario added, and a message that names scenario, probe and counters. */
export interface Delta {
  readonly calls: number;
  readonly ok: number;
  readonly failed: number;
  readonly wrong: number;
  readonly recovered: number;
  readonly failedByCode: Record<string, number>;
}

export function deltaOf(journal: Journal): Delta {
  const first = journal.samples.find((sample) => sample.t >= journal.methodStartedAt) ?? journal.samples[0];
  const last = journal.samples.at(-1);
  const ok = (last?.ok ?? 0) - (first?.ok ?? 0);
  const failed = (last?.failed ?? 0) - (first?.failed ?? 0);
  const wrong = (last?.wrong ?? 0) - (first?.wrong ?? 0);
  const recovered = (last?.recovered ?? 0) - (first?.recovered ?? 0);
  return { calls: ok + failed + wrong, ok, failed, wrong, recovered, failedByCode: last?.failedByCode ?? {} };
}

export function say(scenario: string, probe: string, delta: Delta, extra: unknown = ''): string {
  return `[${scenario}] ${probe}: counters ${JSON.stringify(delta)} ${typeof extra === 'string' ? extra : JSON.stringify(extra)}`;
}
