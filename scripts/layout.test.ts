import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The layout by dependency direction. The compiler enforces each project's
 * `references` (a composite project cannot import a file of a project it
 * does not reference: TS6307); this test pins the references themselves, so
 * that a reference added against the direction fails here, in make check,
 * naming the rule, instead of quietly allowing the import.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What each project may reference; a project not listed here fails the test until it is placed. */
const ALLOWED: Record<string, readonly string[]> = {
  // Packages: at the bottom, referencing packages below them only.
  'packages/consul-discovery': [],
  'packages/contracts': [],
  'packages/runtime': ['packages/consul-discovery'],
  'packages/testing': ['packages/consul-discovery', 'packages/contracts', 'packages/runtime'],
  // The live view: a package of the programs that show it; it knows the contracts, neither program.
  'services/live-view/page': [],
  'services/live-view': ['packages/consul-discovery', 'packages/contracts', 'services/live-view/page'],
  // Programs: packages only (the client shows the live view); never each other.
  'services/server': ['packages/consul-discovery', 'packages/contracts', 'packages/runtime'],
  'services/client': ['packages/consul-discovery', 'packages/contracts', 'packages/runtime', 'services/live-view'],
  'services/local': ['packages/consul-discovery', 'packages/runtime', 'packages/testing'],
  // The chaos runner reads the client through the /stats contract, never its code.
  chaos: ['packages/consul-discovery', 'packages/contracts', 'packages/runtime', 'services/live-view'],
};

/** A tsconfig.json as TypeScript reads it: JSON with // comments. */
function readConfig(path: string): { references?: { path: string }[] } {
  const text = readFileSync(join(ROOT, path), 'utf8')
    .split('\n')
    .filter((line) => !line.trim().startsWith('//'))
    .join('\n');
  return JSON.parse(text) as { references?: { path: string }[] };
}

/** The projects a tsconfig.json references, as paths from the root. */
function referencesOf(project: string): string[] {
  const config = project === '.' ? 'tsconfig.json' : `${project}/tsconfig.json`;
  return (readConfig(config).references ?? []).map((reference) => normalize(join(project, reference.path))).sort();
}

/** Every tsconfig.json git tracks or would add, but the base the others extend. */
function projects(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', '*tsconfig.json'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((file) => file !== '' && !file.split('/').includes('node_modules'))
    .map((file) => dirname(file))
    .filter((project) => project !== '.')
    .sort();
}

test('every project is placed in the layout, and references only what its place allows', () => {
  const problems: string[] = [];
  for (const project of projects()) {
    const allowed = ALLOWED[project];
    if (!allowed) {
      problems.push(`${project}: a project the layout does not place (add it to ALLOWED in scripts/layout.test.ts, with why)`);
      continue;
    }
    for (const reference of referencesOf(project)) {
      if (!allowed.includes(reference)) problems.push(`${project} references ${reference}, against the direction`);
    }
  }
  assert.deepEqual(problems, []);
});

/** The TypeScript sources git tracks or would add under `dir`, outside node_modules and generated code. */
function sourcesUnder(dir: string): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', `${dir}/*.ts`], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((file) => file !== '' && !file.split('/').includes('node_modules') && !file.endsWith('.d.ts'));
}

test('a project that imports the discovery library by its package name references it too', () => {
  // A package-name import resolves through node_modules, which project references do not police; this does.
  const problems: string[] = [];
  const others = Object.keys(ALLOWED);
  for (const project of others.filter((name) => name !== 'packages/consul-discovery')) {
    const nested = others.filter((other) => other !== project && other.startsWith(`${project}/`));
    const importing = sourcesUnder(project)
      .filter((file) => !nested.some((other) => file.startsWith(`${other}/`)))
      .filter((file) => /from '@grpc-consul-lab\/consul-discovery(\/testing)?'/.test(readFileSync(join(ROOT, file), 'utf8')));
    if (importing.length > 0 && !referencesOf(project).includes('packages/consul-discovery')) {
      problems.push(`${project} imports the library (${importing.join(', ')}) without referencing packages/consul-discovery`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the root project builds every other project, and is the only one that may reference them all', () => {
  const placed = Object.keys(ALLOWED).filter((project) => existsSync(join(ROOT, project, 'tsconfig.json')));
  assert.deepEqual(referencesOf('.'), [...placed].sort());
});
