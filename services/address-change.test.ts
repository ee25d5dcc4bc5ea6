import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ConsulRegistrar } from '@grpc-consul-lab/consul-discovery';
import { ConsulDevAgent, freePort } from '@grpc-consul-lab/consul-discovery/testing';
import { HelloProcess } from './local/hello-process.js';
import { checksOf, passingIds } from '../packages/testing/consul-queries.js';
import { eventually } from '../packages/testing/eventually.js';
import { type InProcessClient, startClient } from './client/in-process-client.js';
import { NetnsHost } from '../packages/testing/netns-host.js';
import { test } from '../packages/testing/timed-test.js';

/**
 * An instance's address changes under it (a container reconnected to its
 * network gets a new one): the registration must follow, and a registration
 * whose address another process answers must never pass.
 */
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface Entry {
  readonly Service: { readonly ID: string; readonly Address: string; readonly Port: number };
}

async function entriesOf(consulAddress: string, instanceId: string): Promise<Entry[]> {
  const response = await fetch(`http://${consulAddress}/v1/health/service/HelloService`);
  return ((await response.json()) as Entry[]).filter((entry) => entry.Service.ID === instanceId);
}

test('a server whose address changes moves its registration, and calls reach it again', async (t) => {
  const host = await NetnsHost.create();
  cleanups.push(() => host.dispose());
  const consul = await ConsulDevAgent.start({ clientAddresses: [host.gateway] });
  cleanups.push(() => consul.stop());
  const heartbeatMs = 2_000;
  const server = HelloProcess.start({
    port: await freePort(),
    consulAddress: `${host.gateway}:${consul.httpPort}`,
    netns: host.name,
    env: { TTL_MS: String(heartbeatMs * 3), GRPC_CHECK_INTERVAL_MS: '1000' },
  });
  cleanups.push(() => server.dispose());
  const oldAddress = host.address;
  assert.ok(
    await eventually(async () => (await passingIds(consul.address)).includes(server.instanceId), 15_000),
    `registered and passing:\n${server.logs}`,
  );
  assert.deepEqual(
    (await entriesOf(consul.address, server.instanceId)).map((entry) => entry.Service.Address),
    [oldAddress],
  );

  const client: InProcessClient = startClient({ consulAddress: consul.address, ratePerSecond: 50 });
  cleanups.push(() => client.stop());
  const callsTo = (): number => client.stats.snapshot().byInstance[server.instanceId] ?? 0;
  assert.ok(await eventually(() => callsTo() > 20, 20_000), 'the client calls the instance at its first address');

  const movedAt = Date.now();
  const newAddress = await host.moveTo(3);
  const addresses = async (): Promise<string[]> =>
    (await entriesOf(consul.address, server.instanceId)).map((entry) => entry.Service.Address);
  // The registrar looks at its address between heartbeats and moves the registration. The limit is a
  // safety net for a loaded machine; how soon it moved is printed below (t.diagnostic), not asserted.
  const followed = await eventually(async () => (await addresses()).join() === newAddress, 20_000, 20);
  const followedAfterMs = Date.now() - movedAt;
  assert.ok(
    followed,
    `registration at ${await addresses()} ${followedAfterMs} ms after the move, expected only ${newAddress}:\n${server.logs}`,
  );
  assert.match(server.logs, /advertised address changed: registration moved to the new address/);

  // Served again once Consul's gRPC check of the new address passed (1 s interval) and the resolver pushed it.
  const before = callsTo();
  const servedAgain = await eventually(() => callsTo() > before, 20_000, 20);
  const servedAfterMs = Date.now() - movedAt;
  assert.ok(servedAgain, `no call reached the instance at ${newAddress} within ${servedAfterMs} ms:\n${server.logs}`);
  const stats = client.stats.snapshot();
  assert.equal(stats.wrong, 0, JSON.stringify(stats.lastWrong));
  assert.ok(
    stats.resolvedInstances.some((key) => key === `${server.instanceId}@${newAddress}:${server.port}`),
    `resolved: ${stats.resolvedInstances}`,
  );
  t.diagnostic(
    `address ${oldAddress} -> ${newAddress}: registration moved after ${followedAfterMs} ms, served again after ${servedAfterMs} ms`,
  );
});

test('a registration whose address another process answers never passes: the gRPC check asks for the instance by its own id', async () => {
  const consul = await ConsulDevAgent.start();
  cleanups.push(() => consul.stop());
  const other = HelloProcess.start({ port: await freePort(), consulAddress: consul.address, env: { GRPC_CHECK_INTERVAL_MS: '1000' } });
  cleanups.push(() => other.dispose());
  assert.ok(await eventually(async () => (await passingIds(consul.address)).includes(other.instanceId), 15_000), other.logs);
  const otherCheck = (await checksOf(consul.address, other.instanceId)).find((check) => check.Type === 'grpc');
  assert.ok(
    otherCheck?.Output.includes(`:${other.port}/${other.instanceId}:`),
    `the server's check asks for its id: ${otherCheck?.Output}`,
  );

  // An instance that believes it lives where `other` now listens (its old address, taken over),
  // its gRPC check asking for its own id, as the server's registration does.
  const stale = new ConsulRegistrar({
    consul: { address: consul.address, env: {} },
    service: { name: 'HelloService', id: 'HelloService-moved-away', port: other.port, address: '127.0.0.1' },
    checks: { ttlMs: 0, heartbeatMs: 1_000, grpc: { intervalMs: 1_000, healthService: 'HelloService-moved-away' } },
  });
  stale.start();
  cleanups.push(() => stale.stop());
  const critical = await eventually(
    async () => (await checksOf(consul.address, 'HelloService-moved-away'))[0]?.Status === 'critical',
    20_000,
  );
  assert.ok(critical, `checks: ${JSON.stringify(await checksOf(consul.address, 'HelloService-moved-away'))}`);
  // Several check intervals later it has still never passed, while the process at that address does.
  for (let i = 0; i < 4; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const passing = await passingIds(consul.address);
    assert.ok(!passing.includes('HelloService-moved-away'), `the stale registration passed: ${passing}`);
    assert.ok(passing.includes(other.instanceId));
  }
});
