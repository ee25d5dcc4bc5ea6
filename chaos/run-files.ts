import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Journal } from './engine/journal.js';
import { renderReport } from './report/html-report.js';
import { renderJunit } from './report/junit-report.js';

/**
 * A finished run's files: the journal (JSON) and the HTML report in `out`,
 * named by start time, run name and seed, and with `junit` the run as JUnit
 * XML there too. Returns what the verdict line says about them.
 */
export function writeRunFiles(
  journal: Journal,
  { out, junit, name, seed }: { readonly out: string; readonly junit?: string; readonly name: string; readonly seed: number },
): string {
  mkdirSync(out, { recursive: true });
  const base = join(out, `${new Date(journal.startedAt).toISOString().replace(/[:.]/g, '-')}-${name}-seed${seed}`);
  writeFileSync(`${base}.json`, JSON.stringify(journal, null, 2));
  writeFileSync(`${base}.html`, renderReport(journal));
  if (junit) {
    mkdirSync(dirname(junit), { recursive: true });
    writeFileSync(junit, renderJunit(journal));
  }
  return `journal ${base}.json, report ${base}.html`;
}
