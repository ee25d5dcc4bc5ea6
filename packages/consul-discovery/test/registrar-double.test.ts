import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ConsulRegistrar } from '../src/index.js';
import { ConsulDouble } from './support/consul-double.js';
import { eventually } from '../src/testing/eventually.js';

/**
 * The registrar against the Consul double, for what a real agent cannot be
 * made to do on demand. No agent here: these run in `make check`.
 */
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

test('stop() keeps to its timeout even with a request in flight that Consul never answers', async () => {
  const silent = await ConsulDouble.start(() => ({ hang: true }));
  cleanups.push(() => silent.close());
  // Nothing answers on the port: the double never runs the gRPC check.
  const registration = new ConsulRegistrar({
    service: { name: 'HelloEcho', id: 'HelloEcho-1', port: 1, address: '127.0.0.1' },
    checks: { ttlMs: 4_000, grpc: { intervalMs: 1_000 } },
    consul: { address: silent.address, env: {} },
  });
  cleanups.push(() => registration.stop(500));
  registration.start();
  assert.ok(await eventually(() => silent.openSockets.size === 1, 20_000, 10), 'a registration is in flight');
  const stoppedAt = Date.now();
  await registration.stop(500);
  assert.ok(Date.now() - stoppedAt < 800, `stop took ${Date.now() - stoppedAt} ms`);
  assert.ok(await eventually(() => silent.openSockets.size === 0, 20_000, 10), 'the request in flight was aborted');
});
