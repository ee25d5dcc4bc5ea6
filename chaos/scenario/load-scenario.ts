import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { type Scenario, scenarioSchema } from './schema.js';

/** A scenario file that cannot be used, with the line and field that are wrong. */
export class ScenarioError extends Error {}

const SHIPPED_DIR = fileURLToPath(new URL('../../../chaos/scenarios/', import.meta.url));

/** The shipped scenarios' names, read from chaos/scenarios/: a file added there is one more, with nothing to list by hand. */
export function shippedScenarioNames(): string[] {
  return readdirSync(SHIPPED_DIR)
    .filter((file) => file.endsWith('.yaml'))
    .map((file) => file.slice(0, -'.yaml'.length))
    .sort();
}

/** A shipped scenario's name ("rolling-kill") or a path to a YAML file. */
export function resolveScenarioPath(nameOrPath: string): string {
  if (existsSync(nameOrPath)) return nameOrPath;
  const shipped = `${SHIPPED_DIR}${nameOrPath}.yaml`;
  if (existsSync(shipped)) return shipped;
  throw new ScenarioError(`no scenario "${nameOrPath}": not a file, and not one of the shipped scenarios in chaos/scenarios/`);
}

export function parseScenario(text: string, file: string): Scenario {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const lineOf = (offset: number | undefined): number => (offset === undefined ? 1 : lineCounter.linePos(offset).line);
  const syntaxError = document.errors[0];
  if (syntaxError) throw new ScenarioError(`${file}:${lineOf(syntaxError.pos[0])}: YAML syntax: ${syntaxError.message.split('\n')[0]}`);
  const parsed = scenarioSchema.safeParse(document.toJS());
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = (issue?.path ?? []).map((key) => (typeof key === 'symbol' ? String(key) : key));
  // The deepest node that exists along the path gives the line to show.
  let line = 1;
  for (let depth = path.length; depth >= 0; depth -= 1) {
    const node = document.getIn(path.slice(0, depth), true);
    if (isNode(node)) {
      line = lineOf(node.range?.[0]);
      break;
    }
  }
  const field = path.length > 0 ? path.join('.') : '(top level)';
  throw new ScenarioError(`${file}:${line}: ${field}: ${issue?.message ?? 'invalid'}`);
}

export function loadScenario(nameOrPath: string): { scenario: Scenario; file: string; source: string } {
  const file = resolveScenarioPath(nameOrPath);
  const source = readFileSync(file, 'utf8');
  return { scenario: parseScenario(source, file), file, source };
}
