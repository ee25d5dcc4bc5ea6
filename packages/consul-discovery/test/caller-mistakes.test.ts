import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveConnection } from '../src/consul/connection.js';
import { ConsulResolver, consulDiscoveryOptions } from '../src/discovery/consul-resolver.js';
import { DEFAULT_WATCH_TUNING } from '../src/discovery/health-watch.js';
import { parseConsulTarget } from '../src/discovery/target.js';
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
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function double(answer: Parameters<typeof ConsulDouble.start>[0]): Promise<ConsulDouble> {
  const started = await ConsulDouble.start(answer);
  cleanups.push(() => started.close());
  return started;
}

const endpointsOf = (pushes: readonly Push[]): string[][] => pushes.map((push) => ('endpoints' in push ? push.endpoints : [push.error]));

test('callbacks are isolated: a throwing onEvent, async onEvent, resolver listener or pool subscriber stops no other, crashes nothing, and is logged once', async () => {
  // Two sets, then a query that never answers.
  const consul = await double((n) =>
    n === 1
      ? { index: 1, instances: [['a', 1]] }
      : n === 2
        ? {
            index: 2,
            instances: [
              ['a', 1],
              ['b', 2],
            ],
          }
        : { hang: true },
  );
  const { crashes, stop } = recordCrashes();
  cleanups.push(stop);
  const logger = recordingLogger();
  // All on one shared watch: a raw subscriber of the pool first, so that it is told first.
  const events: WatchEvent['kind'][] = [];
  const watch = { connection: resolveConnection({ address: consul.address }), spec: parseConsulTarget(consul.address, 'S').spec };
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
  await sleep(500);
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
