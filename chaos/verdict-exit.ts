import type { Journal } from './engine/journal.js';

/**
 * How `make chaos` ends a run it finished: the verdict's line (stdout), the
 * lines that name what needs a look (stderr), and the exit code: 0 held, 1
 * violated (before or during the method) or a fault that could not be undone,
 * 4 held but a fault unproven, 130 interrupted. (2 is bad input, bad-input.ts,
 * and 3 a run that stopped on an error: cli.ts exits with those before a verdict.)
 */
export interface VerdictExit {
  readonly out: string;
  readonly err: readonly string[];
  readonly code: number;
}

export function verdictExit(journal: Journal, files: string): VerdictExit {
  const reason = journal.verdictReason ?? '';
  // A fault that could not be undone is left in place: as loud as a violated hypothesis.
  const stuck = journal.rollbacks
    .filter((rollback) => rollback.outcome !== 'done')
    .map((rollback) => `NOT undone: ${rollback.description} (${rollback.outcome}); check it by hand`);
  const stuckOr = (code: number): number => (stuck.length > 0 ? 1 : code);
  switch (journal.verdict) {
    case 'interrupted':
      return { out: `verdict: interrupted; ${files}`, err: stuck, code: 130 };
    case 'held':
      return { out: `verdict: hypothesis held${reason === '' ? '' : ` (${reason})`}; ${files}`, err: stuck, code: stuckOr(0) };
    case 'unproven':
      // The counters held, but they say nothing about a fault that did not happen: an exit code of its own.
      return { out: `verdict: UNPROVEN; ${files}`, err: [...stuck, reason], code: stuckOr(4) };
    default:
      // 'violated', or 'not-steady' (violated before the method): the probes that say so.
      return { out: `verdict: HYPOTHESIS VIOLATED by ${reason}; ${files}`, err: stuck, code: 1 };
  }
}
