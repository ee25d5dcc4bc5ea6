import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { e2eTest as test } from '../packages/testing/timed-test.js';
import { promisify } from 'node:util';
import { freePort } from '@grpc-consul-lab/consul-discovery/testing';
import { journalIn, spawnChaosCli } from './support/chaos-cli.js';
import { statsWhen } from './support/client-stats.js';
import { newProjectName } from './support/compose-stack.js';
import { findLeftovers, sweep } from './support/docker-sweep.js';
import { assertFaultsProven } from './support/fault-proof.js';
import { ROOT } from './support/paths.js';

/**
 * `make swarm-up`'s script deploys the stack (PROFILE=ha, as Swarm services)
 * under a stack name of its own, the chaos runner kills HelloService tasks and
 * Swarm's rescheduling replaces them, with no failed or wrong call; then
 * `swarm-down` leaves the engine as it found it (swarm or not, no
 * docker_gwbridge it did not have, nothing of the stack).
 */
const run = promisify(execFile);
const stack = newProjectName('swarm');
const work = mkdtempSync(join(tmpdir(), 'swarm-e2e-'));

async function engineState(): Promise<{ swarm: string; networks: string[] }> {
  const { stdout } = await run('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}']);
  const networks = (await run('docker', ['network', 'ls', '--format', '{{.Name}}'])).stdout.trim().split('\n').sort();
  return { swarm: stdout.trim(), networks };
}

function swarmScript(command: 'up' | 'down', env: Record<string, string>, path = process.env.PATH ?? '') {
  return run(join(ROOT, 'scripts/swarm.sh'), [command], { env: { ...process.env, PATH: path, ...env }, maxBuffer: 16 << 20 });
}

describe('the stack on Docker Swarm', { timeout: 900_000 }, () => {
  let env: Record<string, string>;
  let before_: Awaited<ReturnType<typeof engineState>>;

  before(async () => {
    before_ = await engineState();
    env = {
      STACK: stack,
      LAB_NET: `10.79.${(process.pid % 200) + 20}`,
      CONSUL_UI_PORT: String(await freePort()),
      CONSUL_2_PORT: String(await freePort()),
      CONSUL_3_PORT: String(await freePort()),
      CLIENT_STATS_PORT: String(await freePort()),
      CALL_RATE: '50',
    };
    await swarmScript('up', env);
    // The client calls once an instance is ready; the run starts from all three answering.
    await statsWhen(
      `http://127.0.0.1:${env.CLIENT_STATS_PORT}`,
      'calls answered by 3 instances',
      (stats) => Object.keys(stats.byInstance).length >= 3,
      120_000,
    );
  });

  after(async () => {
    try {
      await swarmScript('down', env);
    } finally {
      await sweep(stack);
      rmSync(work, { recursive: true, force: true });
    }
  });

  test('Swarm replaces killed HelloService tasks and the client follows: 0 failed, 0 wrong', async () => {
    const out = join(work, 'reports');
    const { child, output } = spawnChaosCli([
      ...['--stack', stack, '--scenario', 'swarm-reschedule', '--seed', '7', '--out', out],
      ...['--stats-url', `http://127.0.0.1:${env.CLIENT_STATS_PORT}`],
      ...['--consul-url', [env.CONSUL_UI_PORT, env.CONSUL_2_PORT, env.CONSUL_3_PORT].map((port) => `https://127.0.0.1:${port}`).join(',')],
    ]);
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, output());

    const journal = journalIn(out);
    assert.equal(journal.scope, `com.docker.stack.namespace=${stack}`);
    // Each killed task read back as not running: Swarm had something to replace.
    assertFaultsProven(journal, { name: 'swarm-reschedule' });
    const reschedules = journal.actions.filter((action) => action.kind === 'reschedule');
    assert.equal(reschedules.length, 4, output());
    for (const action of reschedules) {
      assert.equal(action.outcome, 'done', action.detail);
      assert.equal(action.newInstances.length, 1, `Swarm started a replacement: ${action.detail}`);
    }
    const last = journal.samples.at(-1);
    assert.ok(last && last.ok > 500, `the client kept calling: ${JSON.stringify(last)}`);
    assert.equal(last?.failed, 0);
    assert.equal(last?.wrong, 0);
    // Each task Swarm started was found through Consul and answered calls.
    for (const action of reschedules) {
      const id = action.newInstances[0] ?? '';
      assert.ok((last?.byInstance[id] ?? 0) > 0, `${id} served calls`);
    }
  });

  test('swarm-down leaves the engine as it found it', async () => {
    await swarmScript('down', env);
    assert.deepEqual(await findLeftovers(stack), { containers: [], networks: [], volumes: [], images: [] });
    assert.deepEqual(await engineState(), before_);
    if (before_.swarm === 'active') {
      for (const kind of ['secret', 'config', 'service']) {
        const { stdout } = await run('docker', [kind, 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`]);
        assert.equal(stdout.trim(), '', `no ${kind} of the stack`);
      }
    }
  });
});

test('swarm-up on a swarm worker: one line, exit 2, nothing changed', async () => {
  // A worker needs a second engine; this docker stands in for one and records every call.
  const bin = mkdtempSync(join(tmpdir(), 'swarm-worker-'));
  const calls = join(bin, 'calls');
  writeFileSync(
    join(bin, 'docker'),
    `#!/bin/sh\necho "$*" >> ${calls}\ncase "$*" in\n  "info --format {{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}") echo "active false" ;;\nesac\nexit 0\n`,
  );
  chmodSync(join(bin, 'docker'), 0o755);
  try {
    const failed = await swarmScript('up', { STACK: 'gcl-e2e-worker' }, `${bin}:${process.env.PATH ?? ''}`).then(
      () => assert.fail('swarm-up succeeded on a worker'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(failed.code, 2);
    assert.equal(
      failed.stderr,
      'error: [swarm] this machine is a worker of a swarm: stacks deploy from a manager; run make swarm-up there\n',
    );
    // Asked whether it answers and what it is; nothing else (no init, no build, no deploy).
    assert.deepEqual(readFileSync(calls, 'utf8').trim().split('\n'), [
      'info',
      'info --format {{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}',
    ]);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});
