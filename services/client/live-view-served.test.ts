import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import type { ServiceInstance } from '@grpc-consul-lab/consul-discovery';
import { LiveFeed } from '../live-view/live-feed.js';
import { CallStats } from './call-stats.js';
import { startStatsServer } from './stats-server.js';

/** Reads server-sent events from a response body until `enough` says stop. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  enough: (events: { event: string; data: unknown }[]) => boolean,
): Promise<{ event: string; data: unknown }[]> {
  const events: { event: string; data: unknown }[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
      end = buffer.indexOf('\n\n');
    }
    if (enough(events)) break;
  }
  return events;
}

/** An instance as the resolver hands it over: its key is `id@address:50051`. */
const instance = (id: string, address: string): ServiceInstance => ({
  id,
  address,
  port: 50051,
  tags: [],
  meta: {},
  node: 'lab',
  status: 'passing',
});

test('the client serves the live page at / and its events at /events: everything so far, then each point and resolver change', async () => {
  const stats = new CallStats();
  const feed = new LiveFeed('the client');
  const server = startStatsServer({ stats, port: 0, host: '127.0.0.1', live: feed, onListening: () => undefined });
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const abort = new AbortController();
  try {
    const page = await fetch(`${base}/`);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /<tbody id="instances">/);

    stats.recordResolved([instance('a', '10.0.0.2'), instance('b', '10.0.0.3')]);
    feed.push(stats.snapshot(), 1_000);
    for (let i = 0; i < 10; i += 1) stats.recordOk('a', 2);
    stats.recordOk('b', 300);
    feed.push(stats.snapshot(), 2_000);

    const response = await fetch(`${base}/events`, { signal: abort.signal });
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const reading = readEvents(response.body as ReadableStream<Uint8Array>, (events) => events.length >= 4);
    // The browser is connected (the feed adds it as it sends the headers): b leaves the resolver's set, and a fault starts.
    stats.recordResolved([instance('a', '10.0.0.2')]);
    for (let i = 0; i < 5; i += 1) stats.recordOk('a', 2);
    feed.push(stats.snapshot(), 3_000);
    feed.faultStarted({ index: 0, description: 'kill random instance', startedAt: 2_500 });
    const events = await reading;
    assert.deepEqual(
      events.map((entry) => entry.event),
      ['snapshot', 'point', 'resolver', 'fault'],
    );
    const snapshot = events[0]?.data as { source: string; points: { rates: Record<string, number>; p99: number }[] };
    assert.equal(snapshot.source, 'the client');
    assert.deepEqual(snapshot.points[0]?.rates, { a: 10, b: 1 });
    assert.ok(Math.abs((snapshot.points[0]?.p99 ?? 0) - 300) / 300 < 0.1, 'p99 of that second: the slow call');
    const point = events[1]?.data as { rates: Record<string, number>; totals: { ok: number } };
    assert.deepEqual(point.rates, { a: 5, b: 0 }, "b's line drops to 0");
    assert.equal(point.totals.ok, 16);
    assert.deepEqual(events[2]?.data, { t: 3_000, added: [], removed: ['b@10.0.0.3:50051'] });
    assert.deepEqual(events[3]?.data, { index: 0, description: 'kill random instance', startedAt: 2_500 });
  } finally {
    abort.abort();
    feed.close();
    server.close();
  }
});
