import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

/**
 * `make chaos --scenario NAME --seed 7 --dry-run` prints `line` in its plan
 * and says it changed nothing. Docker is given an address nothing listens
 * on: a dry run that reached for Docker would fail.
 */
export function assertDryRunPlans(name: string, line: string): void {
  const run = spawnSync(process.execPath, [CLI, '--scenario', name, '--seed', '7', '--dry-run'], {
    encoding: 'utf8',
    env: { ...process.env, DOCKER_HOST: 'tcp://127.0.0.1:9' },
  });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(run.stdout.includes(line), run.stdout);
  assert.match(run.stdout, /dry run: nothing was changed\n$/);
}
