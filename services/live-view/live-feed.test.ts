import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { statsSchema } from '../../packages/contracts/stats.js';
import { LiveFeed } from './live-feed.js';
import { loadLivePage } from './live-page.js';

test("the page's stylesheet and script are served beside it, each with its type, and the page refers to nothing else", async () => {
  const feed = new LiveFeed('the client');
  const server = createServer((request, response) => {
    if (!feed.handle(request, response)) response.writeHead(404).end();
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  try {
    const html = await (await fetch(base)).text();
    assert.match(html, /<link rel="stylesheet" href="live\.css"/);
    assert.match(html, /<script type="module" src="live\.js"><\/script>/);
    // Relative and served here: the page works offline and on a locked-down machine.
    const references = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((match) => match[1]);
    assert.deepEqual(references.sort(), ['live.css', 'live.js']);

    const types: Record<string, RegExp> = { 'live.css': /^text\/css\b/, 'live.js': /^text\/javascript\b/ };
    const bodies: Record<string, string> = {};
    for (const [name, type] of Object.entries(types)) {
      const response = await fetch(new URL(name, base));
      assert.equal(response.status, 200, name);
      assert.match(response.headers.get('content-type') ?? '', type, name);
      bodies[name] = await response.text();
    }
    assert.match(bodies['live.css'] ?? '', /#status\.down/);
    assert.match(bodies['live.js'] ?? '', /new EventSource\('events'\)/);
    // One module that imports nothing: no bundler, nothing more to fetch.
    assert.doesNotMatch(bodies['live.js'] ?? '', /^\s*import\b/m);
  } finally {
    feed.close();
    server.close();
  }
});

test('a page file that is missing stops the feed at start-up, by name, rather than failing a request later', () => {
  assert.throws(
    () => loadLivePage(new URL('file:///nonexistent/live-view/page/')),
    /the live view's live\.html cannot be read \(npm run build puts it there\): ENOENT.*\/nonexistent\/live-view\/page\/live\.html/,
  );
});

test("each point carries the datacenter of each instance the client knows one for, for the page's DC column", () => {
  const feed = new LiveFeed('the client');
  const stats = (ok: number) =>
    statsSchema.parse({
      ok,
      failed: 0,
      wrong: 0,
      total: ok,
      failedByCode: {},
      recovered: 0,
      byInstance: { a: ok },
      firstOkAtByInstance: {},
      lastOkAtByInstance: {},
      forgotten: { instances: 0, ok: 0 },
      resolvedInstances: ['a@10.0.0.2:50051'],
      datacenterByInstance: { a: 'dc2' },
      resolverErrors: 0,
      latencyMs: { p50: 1, p99: 1, max: 1 },
      latencyCounts: {},
      startedAt: '',
      uptimeMs: 1,
    });
  feed.push(stats(0), 1_000);
  feed.push(stats(10), 2_000);
  feed.close();
  assert.deepEqual(feed.snapshot().points[0]?.datacenters, { a: 'dc2' });
});
