import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { statsWhen } from './support/client-stats.js';
import { sweep } from './support/docker-sweep.js';
import { type BuiltImages, buildImages, LabCluster, newRunId, ROOT } from './support/lab-cluster.js';

/**
 * `make chaos` as a user runs it, against an e2e cluster: Ctrl-C in the
 * middle leaves nothing paused, and a hypothesis that cannot hold exits
 * non-zero naming the probe.
 */
const imagesRunId = newRunId('cli-images');
const runId = newRunId('cli');
let cluster: LabCluster;
let images: BuiltImages;
const out = mkdtempSync(join(tmpdir(), 'chaos-cli-'));

before(async () => {
  images = await buildImages(imagesRunId);
  cluster = await LabCluster.start(runId, images);
  await statsWhen(cluster.statsUrl, (stats) => Object.keys(stats.byInstance).length >= 3, 30_000);
});

after(async () => {
  await sweep(runId);
  await sweep(imagesRunId);
  rmSync(out, { recursive: true, force: true });
});

function chaos(args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'dist/chaos/cli.js'), '--e2e-run', runId, '--stats-url', cluster.statsUrl, '--out', out, ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { child, output: () => text };
}

async function waitForOutput(output: () => string, pattern: RegExp, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pattern.test(output())) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

test('Ctrl-C during a freeze undoes it: exit 130, nothing left paused, journal and report written', async () => {
  const { child, output } = chaos(['--scenario', 'freeze', '--seed', '5']);
  assert.ok(await waitForOutput(output, /fault #1 pause .*: paused /, 30_000), `the freeze started:\n${output()}`);
  child.kill('SIGINT');
  const [code] = await once(child, 'exit');
  assert.equal(code, 130, output());
  assert.match(output(), /rollback: unpause /);
  const targets = await cluster.driver.targets('hello');
  assert.ok(
    targets.every((target) => target.state === 'running'),
    JSON.stringify(targets.map((t) => [t.name, t.state])),
  );
  assert.ok(
    readdirSync(out).some((file) => file.endsWith('freeze-seed5.html')),
    'report written',
  );
});

test('a hypothesis that cannot hold (every instance frozen, no tolerance) exits 1 and names the probe', async () => {
  const file = join(out, 'impossible.yaml');
  writeFileSync(
    file,
    [
      'title: Everything frozen',
      'hypothesis:',
      '  successRatioAtLeast: 1.0',
      'method:',
      '  - action: pause',
      '    target: oldest',
      '    at: 1s',
      '    duration: 8s',
      '    every: 100ms',
      '    times: 3',
      'settle: 3s',
      'keepAlive: 0',
    ].join('\n'),
  );
  const { child, output } = chaos(['--scenario', file, '--seed', '1']);
  const [code] = await once(child, 'exit');
  assert.equal(code, 1, output());
  assert.match(output(), /verdict: HYPOTHESIS VIOLATED by success-ratio/);
  const targets = await cluster.driver.targets('hello');
  assert.ok(
    targets.every((target) => target.state === 'running'),
    'the rollbacks unpaused every instance',
  );
});

test('a bad scenario file gets one line naming its line and field, exit 2, and changes nothing', async () => {
  const file = join(out, 'bad.yaml');
  writeFileSync(file, 'title: bad\nmethod:\n  - action: pause\n    duration: forever\n');
  const { child, output } = chaos(['--scenario', file]);
  const [code] = await once(child, 'exit');
  assert.equal(code, 2);
  assert.equal(output().trim(), `chaos: ${file}:4: method.0.duration: a duration such as "500ms", "5s" or "1m"`);
});

test('the same seed prints the same plan twice (dry run changes nothing)', async () => {
  const plans: string[] = [];
  for (let i = 0; i < 2; i += 1) {
    const { child, output } = chaos(['--scenario', 'random-mix', '--seed', '424242', '--dry-run']);
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, output());
    plans.push(output());
  }
  assert.equal(plans[0], plans[1]);
  assert.match(plans[0] ?? '', /dry run: nothing was changed/);
});
