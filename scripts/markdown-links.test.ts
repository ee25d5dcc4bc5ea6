import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { anchors, brokenLinks, longLines, slug } from './markdown-links.js';

/**
 * Every relative link in the project's Markdown resolves: to a file or folder
 * that exists, and, for `#anchor` into a Markdown file, to one of its
 * headings (scripts/markdown-links.ts has the slug rule). No line of it is
 * over 200 characters, and the README stays a front door.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAX_LINE = 200;

/** The Markdown git tracks, and new files it does not ignore yet, outside node_modules. */
function markdownFiles(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', '*.md'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file !== '' && !file.split('/').includes('node_modules'));
}

test('every relative link in the Markdown resolves, anchors included', () => {
  const files = markdownFiles();
  assert.ok(files.includes('README.md') && files.includes('docs/figures.md'), `found: ${files.join(', ')}`);
  const problems = brokenLinks(ROOT, files).map(({ where, link, why }) => `${where}: (${link}): ${why}`);
  assert.deepEqual(problems, []);
});

test('no line of the Markdown is over 200 characters', () => {
  assert.deepEqual(longLines(ROOT, markdownFiles(), MAX_LINE), []);
});

test('the README is a front door of at most 200 lines, and links every docs/ page', () => {
  const files = markdownFiles();
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const lines = readme.split('\n').length - (readme.endsWith('\n') ? 1 : 0);
  assert.ok(lines <= 200, `README.md has ${lines} lines`);
  for (const page of files.filter((file) => /^docs\/[^/]+\.md$/.test(file))) {
    assert.ok(readme.includes(`](${page})`) || readme.includes(`](${page}#`), `README.md does not link ${page}`);
  }
});

test('the checker names the file, the line and the link of a broken one', () => {
  const root = mkdtempSync(join(tmpdir(), 'markdown-links-'));
  try {
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'docs', 'page.md'), '# A page: the `first` one\n\n## Twice\n\n## Twice\n');
    writeFileSync(
      join(root, 'README.md'),
      [
        '# Top',
        '[ok](docs/page.md#a-page-the-first-one) [ok](docs/page.md#twice-1) [ok](docs/) [ok](#top)',
        '[web](https://example.invalid/x.md) `[code](nowhere.md)`',
        '```',
        '[fenced](nowhere.md)',
        '```',
        'See [gone](docs/gone.md) and [bad anchor](docs/page.md#thrice).',
        '[ref]: missing/',
      ].join('\n'),
    );
    assert.deepEqual(brokenLinks(root, ['README.md', 'docs/page.md']), [
      { where: 'README.md:7', link: 'docs/gone.md', why: 'docs/gone.md does not exist' },
      { where: 'README.md:7', link: 'docs/page.md#thrice', why: 'docs/page.md has no heading #thrice' },
      { where: 'README.md:8', link: 'missing/', why: 'missing does not exist' },
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("headings slug as GitHub's do", () => {
  assert.equal(slug('Production-shaped Consul: `make up PROFILE=ha`'), 'production-shaped-consul-make-up-profileha');
  assert.equal(slug('What each e2e file proves'), 'what-each-e2e-file-proves');
  assert.equal(slug('A slow instance: balancers and hedging'), 'a-slow-instance-balancers-and-hedging');
  assert.equal(slug('Links [like this](x.md) and snake_case'), 'links-like-this-and-snake_case');
  assert.deepEqual([...anchors('# Same\n```\n# not a heading\n```\n## Same\n')], ['same', 'same-1']);
});
