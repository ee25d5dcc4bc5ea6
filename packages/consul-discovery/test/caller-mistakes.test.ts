import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ResolvedConnection, resolveConnection } from '../src/consul/connection.js';
import { ConsulHttp } from '../src/consul/consul-http.js';
import { ConsulResolver, consulDiscoveryOptions, type DiscoveryEvent } from '../src/discovery/consul-resolver.js';
import { ConsulRegistrar } from '../src/registration/consul-registrar.js';
import { eventually } from '../src/testing/eventually.js';
import { DEFAULT_WATCH_TUNING } from '../src/discovery/watch-tuning.js';
import { type DiscoverySpec, parseConsulTarget } from '../src/discovery/target.js';
import { sharedWatches, type WatchEvent } from '../src/discovery/watch-pool.js';
import { ConsulDouble } from './support/consul-double.js';
import { recordCrashes } from './support/crashes.js';
import { type Push, recordingResolver } from './support/recording-listener.js';
import { recordingLogger } from './support/recording-logger.js';

/**
 * A caller's mistake never breaks the library (issue 19): a callback that
 * throws, an address function that rejects, a Consul that answers 404 to
 * everything, a listener destroyed mid-delivery, a reset on a shared client,
 * a target that cannot work. On the Consul double; these run in `make check`.
 */
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  // Every cleanup runs, even after one fails (a double left open would keep the run alive).
  const failures: unknown[] = [];
  for (const cleanup of cleanups.reverse())
    await Promise.resolve()
      .then(cleanup)
      .catch((error: unknown) => failures.push(error));
  assert.deepEqual(failures, []);
});

async function double(answer: Parameters<typeof ConsulDouble.start>[0]): Promise<ConsulDouble> {
  const started = await ConsulDouble.start(answer);
  cleanups.push(() => started.close());
  return started;
}

/** Consul answering a set (a), then, `secondAfterMs` into the next query, another (a, b); later queries never answer. */
function twoSets(secondAfterMs?: number): Promise<ConsulDouble> {
  const second = { index: 2, instances: [['a', 1] as const, ['b', 2] as const], delayMs: secondAfterMs };
  return double((n) => (n === 1 ? { index: 1, instances: [['a', 1]] } : n === 2 ? second : { hang: true }));
}

/** The connection and query a `consul://<double>/S` resolver shares a watch on, for subscribing to the pool beside it. */
const watchOf = (consul: ConsulDouble): { connection: ResolvedConnection; spec: DiscoverySpec } => ({
  connection: resolveConnection({ address: consul.address }),
  spec: parseConsulTarget(consul.address, 'S').spec,
});

const endpointsOf = (pushes: readonly Push[]): string[][] => pushes.map((push) => ('endpoints' in push ? push.endpoints : [push.error]));

test('callbacks are isolated: a throwing onEvent, async onEvent, resolver listener or pool subscriber stops no other, crashes nothing, and is logged once', async () => {
  const consul = await twoSets();
  const { crashes, stop } = recordCrashes();
  cleanups.push(stop);
  const logger = recordingLogger();
  // All on one shared watch: a raw subscriber of the pool first, so that it is told first.
  const events: WatchEvent['kind'][] = [];
  const watch = watchOf(consul);
  const badSubscriber = sharedWatches.subscribe(
    watch.connection,
    watch.spec,
    () => {
      throw new Error('subscriber bug');
    },
    DEFAULT_WATCH_TUNING,
    logger,
  );
  const throwing = recordingResolver(
    `consul://${consul.address}/S`,
    consulDiscoveryOptions({
      logger,
      onEvent: () => {
        throw new Error('onEvent bug');
      },
    }),
  );
  const rejecting = recordingResolver(
    `consul://${consul.address}/S`,
    consulDiscoveryOptions({
      logger,
      onEvent: async () => {
        throw new Error('async onEvent bug');
      },
    }),
  );
  const badListener = new ConsulResolver(
    { scheme: 'consul', authority: consul.address, path: 'S' },
    () => {
      throw new Error('listener bug');
    },
    consulDiscoveryOptions({ logger }),
  );
  const good = recordingResolver(`consul://${consul.address}/S`);
  const goodSubscriber = sharedWatches.subscribe(watch.connection, watch.spec, (event) => events.push(event.kind));
  for (const resolver of [throwing.resolver, rejecting.resolver, badListener, good.resolver]) resolver.updateResolution();
  assert.ok(await eventually(() => good.pushes.length === 2 && events.length === 2 && consul.requests.length === 3, 20_000));
  await sleep(50);
  for (const resolver of [throwing.resolver, rejecting.resolver, badListener, good.resolver]) resolver.destroy();
  badSubscriber.unsubscribe();
  goodSubscriber.unsubscribe();

  const bothSets = [['127.0.0.1:1'], ['127.0.0.1:1', '127.0.0.1:2']];
  assert.deepEqual(endpointsOf(good.pushes), bothSets, 'the good channel got both sets');
  assert.deepEqual(endpointsOf(throwing.pushes), bothSets, 'a throwing onEvent does not keep its own channel from being told');
  assert.deepEqual(endpointsOf(rejecting.pushes), bothSets);
  assert.deepEqual(events, ['instances', 'instances'], 'the good subscriber got both sets');
  assert.equal(consul.requests.length, 3, 'one watch, still running: the third query is the one that hangs');
  assert.deepEqual(crashes, [], 'nothing uncaught, nothing unhandled');
  // Each bad callback failed twice (two sets) and is logged once.
  assert.deepEqual(
    logger.lines
      .filter((line) => line.level === 'error')
      .map((line) => (line.fields as { err?: string }).err)
      .sort(),
    ['async onEvent bug', 'listener bug', 'onEvent bug', 'subscriber bug'],
    JSON.stringify(logger.lines),
  );
});

test('an address function that rejects: caught, logged once, the registration retried as a failed one and made once it answers; nothing unhandled', async () => {
  const consul = await double(() => ({}));
  const { crashes, stop } = recordCrashes();
  cleanups.push(stop);
  const logger = recordingLogger();
  const answersFrom = Date.now() + 1_000;
  let asked = 0;
  const registration = new ConsulRegistrar({
    service: {
      name: 'HelloEcho',
      id: 'HelloEcho-1',
      port: 1,
      address: async () => {
        asked += 1;
        if (Date.now() < answersFrom) throw new Error('no address yet');
        return '127.0.0.1';
      },
    },
    checks: { ttlMs: 4_000 },
    recheckMs: 50,
    consul: { address: consul.address, env: {} },
    logger,
  });
  cleanups.push(() => registration.stop(500));
  registration.start();
  assert.ok(await eventually(() => registration.state === 'registered', 20_000), `state ${registration.state}`);
  assert.ok(asked >= 3, `the function was asked again while it failed: ${asked}`);
  assert.ok(
    consul.requests.some((request) => request.path === '/v1/agent/service/register'),
    'registered once the function answered',
  );
  assert.deepEqual(crashes, [], 'nothing uncaught, nothing unhandled');
  const failures = logger.lines.filter((line) => JSON.stringify(line.fields).includes('no address yet'));
  assert.equal(failures.length, 1, `logged once: ${JSON.stringify(logger.lines)}`);
  assert.ok(
    logger.lines.some(
      (line) => line.message === 'registration unreachable' && JSON.stringify(line.fields).includes('address function failed'),
    ),
    'as a failed registration: unreachable, backing off',
  );
  await registration.stop(500);
});

test('a throwing onAddressChange: caught and logged once; the registration has moved and stays registered', async () => {
  const consul = await double(() => ({}));
  const logger = recordingLogger();
  const movesAt = Date.now() + 300;
  const registration = new ConsulRegistrar({
    service: { name: 'HelloEcho', id: 'HelloEcho-2', port: 1, address: async () => (Date.now() < movesAt ? '127.0.0.1' : '127.0.0.2') },
    checks: { ttlMs: 4_000 },
    recheckMs: 50,
    consul: { address: consul.address, env: {} },
    logger,
    onAddressChange: () => {
      throw new Error('onAddressChange bug');
    },
  });
  cleanups.push(() => registration.stop(500));
  registration.start();
  assert.ok(await eventually(() => registration.address === '127.0.0.2', 20_000), `address ${registration.address}`);
  await sleep(300);
  assert.equal(registration.state, 'registered');
  const said = logger.lines.map((line) => `${line.level} ${line.message} ${JSON.stringify(line.fields)}`);
  assert.equal(said.filter((line) => line.includes('onAddressChange bug')).length, 1, JSON.stringify(said));
  assert.ok(!said.some((line) => line.includes('registration unreachable')), JSON.stringify(said));
  await registration.stop(500);
});

test('Consul answering 404 to everything (a wrong path, a proxy): the registrar registers again at once once, then backs off; the watch backs off', async () => {
  const consul = await double(() => ({ status: 404, body: 'Not Found' }));
  const logger = recordingLogger();
  const registration = new ConsulRegistrar({
    service: { name: 'HelloEcho', id: 'HelloEcho-3', port: 1, address: '127.0.0.1' },
    checks: { ttlMs: 4_000 },
    consul: { address: consul.address, env: {} },
    logger,
  });
  cleanups.push(() => registration.stop(500));
  const { resolver } = recordingResolver(`consul://${consul.address}/S`);
  cleanups.push(() => resolver.destroy());
  registration.start();
  resolver.updateResolution();
  await sleep(1_500);
  await registration.stop(500);
  resolver.destroy();
  const gapsOf = (path: string): number[] => {
    const times = consul.requests.filter((request) => request.path.startsWith(path)).map((request) => request.at);
    return times.slice(1).map((at, i) => at - (times[i] ?? 0));
  };
  // The registrar: one retry at once (Consul forgot us), then 250 ms doubling, capped at the 1 s heartbeat.
  const registrations = gapsOf('/v1/agent/service/register');
  assert.ok(
    registrations.length >= 2 && registrations.length <= 5,
    `${registrations.length} gaps between registrations: ${registrations.slice(0, 10)}`,
  );
  assert.ok(
    registrations.slice(1).every((gap) => gap >= 150),
    `backed off after the first retry: ${registrations}`,
  );
  assert.equal(logger.lines.filter((line) => line.message === 'registration lost').length, 1, 'logged once');
  // The watch: 200 ms doubling.
  const queries = gapsOf('/v1/health/service/S');
  assert.ok(queries.length >= 2 && queries.length <= 5 && queries.every((gap) => gap >= 100), `gaps between queries: ${queries}`);
});

test('after destroy() (or unsubscribe) nothing is told: not a channel ended by another in the same delivery, not a response in flight', async () => {
  // The second query blocks, answering a new set after 300 ms.
  const consul = await twoSets(300);
  const told: string[] = [];
  const target = `consul://${consul.address}/S`;
  // `closer`'s onEvent closes `closed` (as a program closing a client from onEvent would) on the first set.
  const closer = recordingResolver(target, consulDiscoveryOptions({ onEvent: () => closed.resolver.destroy() }));
  const closed = recordingResolver(target, consulDiscoveryOptions({ onEvent: () => told.push('closed') }));
  const inFlight = recordingResolver(target, consulDiscoveryOptions({ onEvent: () => told.push('in flight') }));
  for (const { resolver } of [closer, closed, inFlight]) {
    resolver.updateResolution();
    cleanups.push(() => resolver.destroy());
  }
  // The same between two subscribers of the pool itself.
  const watch = watchOf(consul);
  const unsubscriber = sharedWatches.subscribe(watch.connection, watch.spec, () => unsubscribed.unsubscribe());
  const unsubscribed = sharedWatches.subscribe(watch.connection, watch.spec, () => told.push('unsubscribed'));
  cleanups.push(() => unsubscriber.unsubscribe());
  // The first set is told; the second query is in flight (its answer comes 300 ms after it): destroy `inFlight` now.
  assert.ok(await eventually(() => inFlight.pushes.length === 1 && consul.requests.length === 2, 20_000, 10));
  inFlight.resolver.destroy();
  assert.ok(await eventually(() => closer.pushes.length === 2, 20_000));
  await sleep(50);
  closer.resolver.destroy();
  assert.equal(closer.pushes.length, 2, 'the watch went on: both sets reached the channel that stayed');
  assert.deepEqual(closed.pushes, [], 'destroyed by the first listener of the delivery, so not told');
  assert.deepEqual(endpointsOf(inFlight.pushes), [['127.0.0.1:1']], 'told the first set only');
  assert.deepEqual(told, ['in flight']);
});

test("a target that cannot work: destroyed before its error is told, it tells nothing; asked again (grpc-js reuses an idle channel's resolver), it tells the error once", async () => {
  const { resolver, pushes } = recordingResolver('consul:///S?mode=push');
  resolver.destroy();
  await sleep(50);
  assert.deepEqual(pushes, [], 'nothing after destroy()');
  resolver.updateResolution();
  resolver.updateResolution();
  await sleep(50);
  assert.deepEqual(endpointsOf(pushes), [['consul target: mode must be "blocking" or "poll", got "push"']]);
  resolver.destroy();
});

test("resetConnections() on a shared client closes its idle connections, not another user's blocking query in flight", async () => {
  const entry = (value: string): string => JSON.stringify([{ Key: 'k', Value: Buffer.from(value).toString('base64') }]);
  // A read answers at once; a blocking one (with an index) after 400 ms, with a new value.
  const consul = await double((_n, request) =>
    request.query.has('index') ? { index: 6, body: entry('new'), delayMs: 400 } : { index: 5, body: entry('old') },
  );
  const shared = new ConsulHttp({ address: consul.address, env: {} });
  cleanups.push(() => shared.close());
  // Two reads at once leave two idle keep-alive connections.
  await Promise.all([shared.kvGet('k'), shared.kvGet('k')]);
  assert.equal(consul.openSockets.size, 2);
  // Another user's blocking query takes one of them; then a user (a registrar whose address moved) resets.
  const blocking = shared.kvGet('k', { index: 5, waitMs: 10_000 });
  assert.ok(await eventually(() => consul.requests.length === 3, 20_000, 10), 'the blocking query is in flight');
  shared.resetConnections();
  assert.ok(
    await eventually(() => consul.openSockets.size === 1, 20_000, 10),
    'the idle connection is closed, the one the query is on is not',
  );
  assert.deepEqual(await blocking, { value: 'new', index: 6 }, 'the blocking query got its answer');
  assert.ok(await eventually(() => consul.openSockets.size === 0, 20_000, 10), 'the old pool closed once its last request ended');
  assert.deepEqual(await shared.kvGet('k'), { value: 'old', index: 5 }, 'requests after the reset go out on a new pool');
});

test('a target or connection options that cannot work reach onEvent (kind config) as well as the channel', async () => {
  const events: DiscoveryEvent[] = [];
  const badTarget = recordingResolver('consul:///S?mode=push', consulDiscoveryOptions({ onEvent: (event) => events.push(event) }));
  const badConnection = recordingResolver(
    'consul:///S',
    consulDiscoveryOptions({ connection: { address: 'consul', env: {} }, onEvent: (event) => events.push(event) }),
  );
  for (const { resolver } of [badTarget, badConnection]) {
    resolver.updateResolution();
    cleanups.push(() => resolver.destroy());
  }
  await sleep(50);
  const targetError = 'consul target: mode must be "blocking" or "poll", got "push"';
  const connectionError = 'Consul address "consul" is not host:port or http(s)://host:port';
  assert.deepEqual(
    events.map((event) => (event.type === 'error' ? `${event.service}: ${event.error.kind}: ${event.error.message}` : event.type)),
    [`S?mode=push: config: ${targetError}`, `S: config: ${connectionError}`],
  );
  assert.deepEqual(
    events.map((event) => (event.type === 'error' ? (event.error.cause as Error).name : event.type)),
    ['InvalidTargetError', 'ConsulConfigError'],
  );
  assert.deepEqual(endpointsOf(badTarget.pushes), [[targetError]], 'the channel is told as before');
  assert.deepEqual(endpointsOf(badConnection.pushes), [[connectionError]]);
});
