import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { goToolPins, occurrence, pins, strayCopies, VERSIONS_FILE, versionsFilePins } from './versions.js';

/**
 * Each pinned version is written once (versions.env, or a Go wrapper module's
 * require line) and read from there: a copy elsewhere would be the one a bump
 * forgets. This fails naming file:line of every copy.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GO_MODULES = ['tools/consul/go.mod', 'tools/grpc-health-probe/go.mod', 'tools/toxiproxy/go.mod'];

/**
 * Where a pin's value may stand besides its owner, each for a reason:
 * - the Go wrapper modules' go.mod and go.sum: every module of a tool's build
 *   is pinned there, and another module's version may equal a pin;
 * - package-lock.json: the same for npm's packages.
 */
const ALLOWED = [/^tools\/[^/]+\/go\.(mod|sum)$/, /(^|\/)package-lock\.json$/];

/** The files git tracks, and new ones it does not ignore yet, outside node_modules. */
function projectFiles(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file !== '' && !file.split('/').includes('node_modules') && existsSync(join(ROOT, file)));
}

test('no pinned version is written anywhere but where it is pinned', () => {
  const all = pins(ROOT, GO_MODULES);
  const names = all.map((pin) => pin.name);
  for (const expected of [
    'NODE_VERSION',
    'DEBIAN_RELEASE',
    'COMPOSE_DEB_VERSION',
    'github.com/hashicorp/consul',
    'github.com/grpc-ecosystem/grpc-health-probe',
    'github.com/Shopify/toxiproxy/v2',
  ]) {
    assert.ok(names.includes(expected), `no pin ${expected} found (${names.join(', ')})`);
  }
  const owners = new Set([VERSIONS_FILE, ...GO_MODULES]);
  const texts = new Map<string, string>();
  for (const file of projectFiles()) {
    if (owners.has(file) || ALLOWED.some((allowed) => allowed.test(file))) continue;
    const text = readFileSync(join(ROOT, file), 'utf8');
    if (!text.includes('\0')) texts.set(file, text);
  }
  const copies = strayCopies(all, texts);
  assert.deepEqual(copies, [], `read these from their owner instead of writing them again:\n${copies.join('\n')}`);
});

test('versions.env: KEY=value lines, comments and blank lines aside', () => {
  assert.deepEqual(versionsFilePins('# a comment\n\nNODE_VERSION=1.2.3\n  # NOT=this\nDEBIAN_RELEASE=plum\n'), [
    { name: 'NODE_VERSION', value: '1.2.3', owner: VERSIONS_FILE },
    { name: 'DEBIAN_RELEASE', value: 'plum', owner: VERSIONS_FILE },
  ]);
});

test("a wrapper module's pin is the require line of the module its tool directive names", () => {
  const goMod =
    'module x\n\ntool example.com/tool\n\nrequire (\n\texample.com/other v1.0.0 // indirect\n\texample.com/tool v2.5.1 // indirect\n)\n';
  assert.deepEqual(goToolPins(goMod, 'tools/x/go.mod'), [{ name: 'example.com/tool', value: '2.5.1', owner: 'tools/x/go.mod' }]);
  assert.throws(() => goToolPins('module x\ntool example.com/tool\n', 'tools/x/go.mod'), /requires no version of it/);
});

test("a tool that is a package inside a module is pinned by that module's require line, the longest that contains it", () => {
  const goMod =
    'module x\n\ntool example.com/tool/v2/cmd/server\n\nrequire (\n\texample.com/tool v1.0.0 // indirect\n\texample.com/tool/v2 v2.7.1 // indirect\n\texample.com/tool/v2/cmd/serverx v9.9.9\n)\n';
  assert.deepEqual(goToolPins(goMod, 'tools/x/go.mod'), [{ name: 'example.com/tool/v2', value: '2.7.1', owner: 'tools/x/go.mod' }]);
});

test('a value counts as a word of its own', () => {
  for (const line of ['image: node:9.8.7-slim', 'example.com/a v9.8.7 // indirect', 'version 9.8.7.']) {
    assert.ok(occurrence('9.8.7').test(line), line);
  }
  for (const line of ['19.8.7', '9.8.70', '9.8.7.4']) assert.ok(!occurrence('9.8.7').test(line), line);
  assert.ok(occurrence('plum').test('node:24-Plum-slim'));
  assert.ok(!occurrence('plum').test('plums'));
});
