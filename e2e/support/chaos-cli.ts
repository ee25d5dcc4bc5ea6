import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
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
