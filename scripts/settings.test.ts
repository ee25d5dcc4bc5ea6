import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * make's settings (scripts/check-settings.sh, the `profile` target every
 * target that builds or starts runs first): a PROFILE or HELLO_REPLICAS that
 * cannot be is refused in one line, exit 2, before anything is built or
 * started. Needs no Docker: make stops at `profile`.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// Should the check ever let make go on, `make up` would provision for real
// (install Docker, build images) on the machine running the tests. These
// stand-ins come first on PATH: they refuse, and say they were reached.
const stubs = mkdtempSync(join(tmpdir(), 'settings-stubs-'));
const reached = join(stubs, 'reached');
for (const command of ['docker', 'dockerd', 'apt-get', 'npm', 'go', 'consul']) {
  writeFileSync(join(stubs, command), `#!/bin/sh\necho "${command} $*" >>"${reached}"\nexit 1\n`);
  chmodSync(join(stubs, command), 0o755);
}
after(() => rmSync(stubs, { recursive: true, force: true }));

// make as a user starts it, also under `make check`: not a sub-make, no settings
// but those given.
const userEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'PROFILE', 'HELLO_REPLICAS', 'CONSUL_DATA_SIZE', 'COMPOSE_FILE'].includes(name),
  ),
);

function make(args: readonly string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync('make', ['--no-print-directory', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...userEnv, ...env, PATH: `${stubs}:${process.env.PATH ?? ''}` },
    timeout: 20_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Refused: exit 2, nothing on stdout (every step announces itself there), and one line of ours before make's own. */
function assertRefused(run: ReturnType<typeof make>, line: RegExp): void {
  assert.equal(run.code, 2, run.stderr);
  assert.equal(run.stdout, '', 'nothing was built or started');
  const [ours, ...rest] = run.stderr.trimEnd().split('\n');
  assert.match(ours ?? '', line);
  assert.ok(
    rest.every((other) => other.startsWith('make: ')),
    `one line of ours, the rest make's:\n${run.stderr}`,
  );
  assert.equal(existsSync(reached) ? readFileSync(reached, 'utf8') : '', '', 'no provisioning command was run');
}

test('an unknown PROFILE: one line, exit 2, before anything is built or started', { timeout: 30_000 }, () => {
  assertRefused(make(['up', 'PROFILE=triple']), /^error: \[profile\] unknown PROFILE "triple" \(known: single, ha, multi-dc\)$/);
});

test(
  'HELLO_REPLICAS that is no count from 1 to 50: one line naming it, exit 2, before anything is built or started',
  { timeout: 30_000 },
  () => {
    for (const replicas of ['0', '-1', 'abc', '51']) {
      assertRefused(make(['up', `HELLO_REPLICAS=${replicas}`]), /^error: \[replicas\] HELLO_REPLICAS/);
    }
    // From the environment too, as CI or a shell profile would set it.
    assertRefused(
      make(['up'], { HELLO_REPLICAS: '51' }),
      /^error: \[replicas\] HELLO_REPLICAS=51 is more than this lab runs: at most 50 instances/,
    );
  },
);

test(
  'CONSUL_DATA_SIZE that is no size from 16m to 1g: one line naming it, exit 2, before anything is built or started',
  { timeout: 30_000 },
  () => {
    for (const size of ['64', '64M', '064m', 'lots', '1.5g']) {
      assertRefused(
        make(['up', `CONSUL_DATA_SIZE=${size}`]),
        /^error: \[consul-data-size\] CONSUL_DATA_SIZE must be a size such as 64m or 1g, from 16m to 1g \(got "/,
      );
    }
    for (const size of ['15m', '2g']) {
      assertRefused(
        make(['up', `CONSUL_DATA_SIZE=${size}`]),
        new RegExp(`^error: \\[consul-data-size\\] CONSUL_DATA_SIZE=${size} is out of range: from 16m to 1g$`),
      );
    }
  },
);

test(
  'the settings make accepts pass the check silently: every profile, 1 and 50 instances, a Consul data size',
  { timeout: 30_000 },
  () => {
    for (const settings of [
      ['PROFILE=single', 'HELLO_REPLICAS=1'],
      ['PROFILE=ha', 'HELLO_REPLICAS=50'],
      ['PROFILE=multi-dc'],
      ['CONSUL_DATA_SIZE=16m'],
      ['CONSUL_DATA_SIZE=1g'],
      [],
    ]) {
      const run = make(['profile', ...settings]);
      assert.deepEqual(run, { code: 0, stdout: '', stderr: '' }, settings.join(' '));
    }
  },
);
