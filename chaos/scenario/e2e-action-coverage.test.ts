import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadScenario, shippedScenarioNames } from './load-scenario.js';
import { FAULT_NAMES } from '../faults/registry.js';
import type { ActionKind } from './schema.js';

/**
 * Every fault kind of the registry (faults/registry.ts) runs at least once on real containers
 * in `make test`, so that a kind no test has ever run (as `kill` and
 * `kill-consul-follower` once were) fails here, in `make check`, instead of
 * shipping untried.
 *
 * How it decides, from the e2e sources as text (make test runs every test
 * under e2e/ but e2e/long/): a kind counts as run by a file when
 *   - the file writes it as a step, `action: 'kind'` in a scenario object or
 *     `action: kind` in YAML inside a string; or
 *   - the file runs a shipped scenario by name (`runShippedScenario('name'`
 *     or `'--scenario', 'name'`, not on a `--dry-run` line), whose kinds are
 *     read with the real loader.
 * chaos/engine/runner.test.ts does not count: it drives a fake Docker, which
 * is how `kill` looked tested while no container was ever killed by it.
 * What this cannot see: a test that names a kind only to watch it refused
 * (secure-stack's consul-quorum-loss on one server) counts too, and whether
 * the test asserts enough is for its own assertions (every e2e run goes
 * through assertFaultsProven). A scenario in a file of its own (e2e/*.yaml)
 * would need adding here.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const E2E = join(ROOT, 'e2e');

const KINDS: readonly ActionKind[] = FAULT_NAMES;
const SHIPPED = new Set(shippedScenarioNames());

/** The TypeScript sources make test runs from e2e/ (and their helpers): every .ts below it but e2e/long/. */
function e2eSources(dir = E2E): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'long' ? [] : e2eSources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The action kinds a source runs, by the rules above. */
function kindsRunBy(source: string): Set<ActionKind> {
  const known = new Set<string>(KINDS);
  const kinds = new Set<ActionKind>();
  for (const [, word] of source.matchAll(/\baction:\s*['"]?([a-z][a-z-]*)/g)) {
    if (word !== undefined && known.has(word)) kinds.add(word as ActionKind);
  }
  for (const line of source.split('\n').filter((text) => !text.includes('--dry-run'))) {
    for (const [, name] of line.matchAll(/(?:runShippedScenario\(\s*|'--scenario',\s*)'([a-z0-9-]+)'/g)) {
      if (name === undefined || !SHIPPED.has(name)) continue;
      for (const action of loadScenario(name).scenario.method) kinds.add(action.action);
    }
  }
  return kinds;
}

test('the scan reads steps written in a test and shipped scenarios run by name, not dry runs', () => {
  assert.deepEqual([...kindsRunBy(`{ action: 'kill-consul-follower', at: '2s' }`)], ['kill-consul-follower']);
  assert.deepEqual([...kindsRunBy(`'title: t\\nmethod:\\n  - action: pause\\n'`)], ['pause']);
  assert.deepEqual([...kindsRunBy(`stack.runShippedScenario('consul-quorum-loss', 1)`)], ['consul-quorum-loss']);
  assert.deepEqual([...kindsRunBy(`spawn(['--stack', s, '--scenario', 'swarm-reschedule', '--seed', '7'])`)], ['reschedule']);
  assert.deepEqual([...kindsRunBy(`chaos(['--scenario', 'freeze', '--dry-run'])`)], []);
  assert.deepEqual([...kindsRunBy(`{ action: 'explode' }`)], []);
});

test('every action kind of the schema runs in an e2e test of make test', () => {
  const runBy = new Map<ActionKind, string[]>(KINDS.map((kind) => [kind, []]));
  for (const file of e2eSources()) {
    for (const kind of kindsRunBy(readFileSync(file, 'utf8'))) runBy.get(kind)?.push(relative(ROOT, file));
  }
  const never = KINDS.filter((kind) => (runBy.get(kind) ?? []).length === 0);
  assert.deepEqual(never, [], `action kinds no e2e test runs (write one on a stack that can run it): ${never.join(', ')}`);
});
