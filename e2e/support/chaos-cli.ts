import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Journal } from '../../chaos/engine/journal.js';
import { ROOT } from './paths.js';

/**
 * `make chaos` as a user runs it: the compiled CLI with the chaos runner's
 * token and our CA (as the Makefile passes them), stdout and stderr
 * collected together.
 */
export function spawnChaosCli(args: readonly string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [join(ROOT, 'dist/chaos/cli.js'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      CONSUL_CACERT: join(ROOT, '.secrets/ca.pem'),
      CONSUL_HTTP_TOKEN_FILE: join(ROOT, '.secrets/chaos-runner.token'),
    },
  });
  let text = '';
  const collect = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return { child, output: () => text };
}

/** The journal a CLI run wrote into `dir` (--out), the one whose file name ends with `suffix`. */
export function journalIn(dir: string, suffix = '.json'): Journal {
  const file = readdirSync(dir).find((name) => name.endsWith(suffix));
  if (file === undefined) throw new Error(`no journal *${suffix} in ${dir}: ${readdirSync(dir).join(', ')}`);
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as Journal;
}
