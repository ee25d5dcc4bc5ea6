import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../src/testing/eventually.js';
import { consulDiscoveryOptions, type DiscoveryEvent } from '../src/index.js';
import { ConsulDouble } from './support/consul-double.js';
import { type Push, recordingResolver } from './support/recording-listener.js';

/**
 * The rules of a multi-datacenter target that a real agent cannot be made to
 * show on demand, on two Consul doubles, one per datacenter: the start waits
 * for the datacenters ahead, and the probe fails a datacenter whose Consul
 * hangs. (Against real agents: multi-datacenter.test.ts.)
 */
const doubles: ConsulDouble[] = [];
const resolvers: { destroy(): void }[] = [];
after(async () => {
  // Destroyed here too: a test that fails before its own destroy() must not leave watches retrying.
  for (const resolver of resolvers) resolver.destroy();
  for (const double of doubles) await double.close();
});

async function double(answer: Parameters<typeof ConsulDouble.start>[0]): Promise<ConsulDouble> {
  const started = await ConsulDouble.start(answer);
  doubles.push(started);
  return started;
}

/** Each push as its endpoints' ports ("1": dc1's instance, "2": dc2's), or its error. */
const portsOf = (pushes: readonly Push[]): string[] =>
  pushes.map((push) => ('endpoints' in push ? push.endpoints.map((endpoint) => endpoint.split(':')[1]).join('') : push.error));

/** A resolver for S?dc=dc1,dc2, each datacenter asked through its own double, with short deadlines. */
function resolverFor(dc1: ConsulDouble, dc2: ConsulDouble, events: DiscoveryEvent[] = []): ReturnType<typeof recordingResolver> {
  const made = recordingResolver(
    'consul:///S?dc=dc1,dc2',
    consulDiscoveryOptions({
      connection: { address: dc1.address, env: {}, requestTimeoutMs: 400 },
      datacenters: { dc1: { address: dc1.address }, dc2: { address: dc2.address } },
      tuning: { probeTimeoutMs: 200, minProbeIntervalMs: 100, backoff: { initialMs: 50, maxMs: 100 } },
      onEvent: (event) => events.push(event),
    }),
  );
  resolvers.push(made.resolver);
  return made;
}

test('nothing is chosen before the datacenters ahead answered: dc1 answering 300 ms after dc2 is still the first push, and the only one (regression)', async () => {
  const dc1 = await double((n) => (n === 1 ? { index: 1, instances: [['a', 1]], delayMs: 300 } : { hang: true }));
  const dc2 = await double((n) => (n === 1 ? { index: 1, instances: [['b', 2]] } : { hang: true }));
  const events: DiscoveryEvent[] = [];
  const { resolver, pushes } = resolverFor(dc1, dc2, events);
  resolver.updateResolution();
  assert.ok(await eventually(() => pushes.length > 0, 20_000, 10), 'a set was pushed');
  // And nothing after it.
  await sleep(300);
  resolver.destroy();
  assert.deepEqual(portsOf(pushes), ['1']);
  assert.deepEqual(
    events.flatMap((event) => (event.type === 'datacenter' ? [[event.from, event.to]] : [])),
    [[undefined, 'dc1']],
  );
  // Both asked with their own dc, each through its own agent.
  assert.equal(dc1.requests[0]?.query.get('dc'), 'dc1');
  assert.equal(dc2.requests[0]?.query.get('dc'), 'dc2');
});

test("a re-resolution probes the datacenter in use: dc1's Consul hanging, its probe fails after probeTimeoutMs, dc2 is pushed, dc1's watch starts over, and dc1 comes back when it answers (regression)", async () => {
  let dc1Hangs = false;
  // Answers a query that does not block at once, holds a blocking one; hangs on everything while "partitioned".
  const dc1 = await double((_n, request) =>
    dc1Hangs || request.query.has('index') ? { hang: true } : { index: 5, instances: [['a', 1]] },
  );
  const dc2 = await double((n) => (n === 1 ? { index: 1, instances: [['b', 2]] } : { hang: true }));
  const events: DiscoveryEvent[] = [];
  const { resolver, pushes } = resolverFor(dc1, dc2, events);
  resolver.updateResolution();
  // dc1's set pushed, and its watch's blocking query sent.
  assert.ok(await eventually(() => pushes.length > 0 && dc1.requests.length >= 2, 20_000, 10), 'a set was pushed');
  assert.deepEqual(portsOf(pushes), ['1']);
  const asked = dc1.requests.length;
  dc1Hangs = true;
  // grpc-js asks again on every subchannel change: five asks are one probe.
  for (let i = 0; i < 5; i += 1) resolver.updateResolution();
  assert.ok(await eventually(() => pushes.length >= 2 && dc1.requests.length - asked >= 2, 20_000, 10), `pushed: ${portsOf(pushes)}`);
  assert.deepEqual(portsOf(pushes), ['1', '2'], 'dc2 once the probe (200 ms) failed');
  const afterProbe = dc1.requests.slice(asked);
  assert.equal(afterProbe[0]?.query.get('index'), null, 'the probe does not block');
  assert.equal(
    afterProbe.length,
    2,
    `one probe, then the watch started over: ${JSON.stringify(afterProbe.map((r) => r.query.toString()))}`,
  );
  assert.equal(afterProbe[1]?.query.get('index'), null, 'the watch starts over with a query that does not block');
  const away = events.find((event) => event.type === 'datacenter' && event.to === 'dc2');
  assert.equal(away?.type === 'datacenter' && away.reason, 'dc1: Consul unreachable');
  // dc1 answers again: the watch's next query (after its 400 ms deadline and a backoff) brings the channel back.
  dc1Hangs = false;
  assert.ok(await eventually(() => pushes.length >= 3, 20_000, 10), `pushed: ${portsOf(pushes)}`);
  resolver.destroy();
  assert.deepEqual(portsOf(pushes).slice(0, 3), ['1', '2', '1']);
});
