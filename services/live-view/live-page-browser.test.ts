import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { statsSchema } from '../../packages/contracts/stats.js';
import { LiveFeed } from './live-feed.js';

/**
 * The live page as headless Chromium draws it from the feed's events (apart
 * from live-feed.test.ts because it needs Chromium: make unit): each
 * instance's line and each resolved instance shows its datacenter.
 */
const KEYS = ['HelloService-a@10.0.0.2:50051', 'HelloService-b@10.0.0.3:50051', 'HelloService-c@10.0.0.4:50051'];

/** A client's /stats: a and b answered `calls` times each; a in dc1, b in dc2, c with no datacenter said. */
const statsAt = (calls: number) =>
  statsSchema.parse({
    ok: 2 * calls,
    failed: 0,
    wrong: 0,
    total: 2 * calls,
    failedByCode: {},
    recovered: 0,
    byInstance: { 'HelloService-a': calls, 'HelloService-b': calls, 'HelloService-c': 0 },
    firstOkAtByInstance: {},
    lastOkAtByInstance: {},
    forgotten: { instances: 0, ok: 0 },
    resolvedInstances: KEYS,
    datacenterByInstance: { 'HelloService-a': 'dc1', 'HelloService-b': 'dc2' },
    resolverErrors: 0,
    latencyMs: { p50: 1, p99: 1, max: 1 },
    latencyCounts: {},
    startedAt: new Date(0).toISOString(),
    uptimeMs: 1,
  });

test("headless Chromium shows each instance's datacenter on its line and in the resolver's set", async () => {
  const chromium = process.env.CHROMIUM;
  assert.ok(chromium, 'CHROMIUM is not set: run through make (scripts/ensure-chromium.sh provides it)');
  const feed = new LiveFeed('the client');
  feed.push(statsAt(0), 1_000);
  feed.push(statsAt(30), 2_000);
  const server = createServer((request, response) => {
    if (!feed.handle(request, response)) response.writeHead(404).end();
    // Each event stream ends once it sent what there is: the page has it all, and the browser is not held open.
    else if (request.url === '/events') setImmediate(() => response.end());
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const dir = mkdtempSync(join(tmpdir(), 'live-page-'));
  try {
    const { stdout: dom } = await promisify(execFile)(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--no-first-run',
        '--disable-background-networking',
        `--user-data-dir=${join(dir, 'profile')}`,
        '--virtual-time-budget=3000',
        '--dump-dom',
        `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
      ],
      { timeout: 60_000, maxBuffer: 8 * 1024 * 1024 },
    );
    const rows = [...dom.matchAll(/<tr data-instance="([^"]+)" data-rate="[^"]*" data-datacenter="([^"]*)">(.*?)<\/tr>/g)];
    assert.deepEqual(
      rows.map(([, instance, datacenter]) => [instance, datacenter]),
      [
        ['HelloService-a', 'dc1'],
        ['HelloService-b', 'dc2'],
        ['HelloService-c', ''],
      ],
      dom,
    );
    assert.match(rows[0]?.[3] ?? '', /<td><span class="dc" data-datacenter="dc1">dc1<\/span><\/td><td class="num rate">30<\/td>/);
    assert.match(rows[2]?.[3] ?? '', /<td>–<\/td><td class="num rate">0<\/td>/, 'no datacenter said: a dash');
    assert.match(dom, /<th>instance<\/th>\s*<th>DC<\/th>/);
    assert.match(dom, /<li data-resolved="HelloService-b">b@10\.0\.0\.3:50051 <span class="dc" data-datacenter="dc2">dc2<\/span><\/li>/);
  } finally {
    feed.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
