import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** `make chaos REPLAY=<journal>`: the recorded scenario and seed, and one clear line for a journal that cannot be replayed. */
const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'replay-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const chaos = (...args: string[]): { code: number | null; out: string; err: string } => {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: run.status, out: run.stdout, err: run.stderr };
};

const YAML = 'title: recorded\nmethod:\n  - action: kill\n    at: 2s\n    every: 3s\n    times: 3\n    jitter: 1s\nsettle: 1s\n';

test('a replay plans exactly what the recorded scenario and seed planned', () => {
  const scenarioFile = join(dir, 'recorded.yaml');
  writeFileSync(scenarioFile, YAML);
  const journalFile = join(dir, 'run.json');
  writeFileSync(
    journalFile,
    JSON.stringify({ scenario: { title: 'recorded', description: '', file: scenarioFile, source: YAML }, seed: 4242 }),
  );
  const original = chaos('--scenario', scenarioFile, '--seed', '4242', '--dry-run');
  const replay = chaos('--replay', journalFile, '--dry-run');
  assert.equal(original.code, 0, original.err);
  assert.equal(replay.code, 0, replay.err);
  assert.match(replay.out, /seed 4242/);
  assert.equal(replay.out, original.out, 'same plan: same targets picked, same jitter');
});

test('a journal without its scenario, a file that is not JSON, or --seed with --replay: one line, exit 2', () => {
  const old = join(dir, 'old.json');
  writeFileSync(old, JSON.stringify({ scenario: { title: 'x', description: '', file: 'x.yaml' }, seed: 1 }));
  const garbage = join(dir, 'garbage.json');
  writeFileSync(garbage, 'not json');
  for (const [args, says] of [
    [['--replay', old], /not a chaos journal with its scenario/],
    [['--replay', garbage], /--replay .*garbage\.json: /],
    [['--replay', old, '--seed', '3'], /--replay runs the scenario and seed of the journal/],
  ] as const) {
    const run = chaos(...args);
    assert.equal(run.code, 2, run.err);
    assert.match(run.err, says);
    assert.equal(run.err.trim().split('\n').length, 1, `one line: ${run.err}`);
  }
});
