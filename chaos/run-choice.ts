import { readFileSync } from 'node:fs';
import { BadInput } from './bad-input.js';
import type { Journal } from './engine/journal.js';
import { loadScenario, parseScenario } from './scenario/load-scenario.js';
import type { Scenario } from './scenario/schema.js';

/** What a run runs: the scenario (with its file and text, for the journal), the seed, and the name its files carry. */
export interface RunChoice {
  readonly scenario: Scenario;
  readonly file: string;
  readonly source: string;
  readonly seed: number;
  /** In the journal's and report's file names: the scenario as given, replay-<title>, or rolling-kill. */
  readonly name: string;
}

const fileNamePart = (text: string): string => text.replace(/[^A-Za-z0-9_-]/g, '_');

/** The scenario and seed a journal recorded, for --replay. */
function fromJournal(path: string): Omit<RunChoice, 'name'> {
  let journal: Partial<Journal> | null;
  try {
    journal = JSON.parse(readFileSync(path, 'utf8')) as Partial<Journal> | null;
  } catch (error) {
    throw new BadInput(`--replay ${path}: ${(error as Error).message.split('\n')[0]}`);
  }
  const source = journal?.scenario?.source;
  if (!journal || typeof source !== 'string' || typeof journal.seed !== 'number') {
    throw new BadInput(
      `--replay ${path}: not a chaos journal with its scenario (journals written before the scenario was kept cannot be replayed)`,
    );
  }
  const file = `${journal.scenario?.file ?? 'scenario'} (as recorded in ${path})`;
  return { scenario: parseScenario(source, file), file, source, seed: journal.seed };
}

/**
 * The run --replay, or --scenario (default: rolling-kill) and --seed (default:
 * random), ask for; a scenario that cannot be used throws ScenarioError, a
 * journal that cannot be replayed BadInput.
 */
export function chooseRun(args: { readonly scenario?: string; readonly replay?: string; readonly seed: string }): RunChoice {
  if (args.replay !== undefined) {
    const recorded = fromJournal(args.replay);
    return { ...recorded, name: fileNamePart(`replay-${recorded.scenario.title}`) };
  }
  const loaded = loadScenario(args.scenario ?? 'rolling-kill');
  const seed = args.seed === '' ? Math.floor(Math.random() * 2 ** 31) : Number(args.seed) >>> 0;
  return { ...loaded, seed, name: fileNamePart(args.scenario ?? 'rolling-kill') };
}
