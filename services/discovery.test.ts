import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { checksOf, passingIds } from '../packages/testing/consul-queries.js';
import { eventually } from '../packages/testing/eventually.js';
import { ConsulDevAgent, freePort } from '@grpc-consul-lab/consul-discovery/testing';
import { HelloProcess } from './local/hello-process.js';
import { type InProcessClient, startClient } from './client/in-process-client.js';
import { test } from '../packages/testing/timed-test.js';
import { instanceIdOf } from '@grpc-consul-lab/consul-discovery';

// Registration and discovery against a real Consul dev agent and real server processes. Each
// wait's limit is a safety net for a loaded machine: the tests assert what happens; how soon is
// for bench/ to measure.
let consul: ConsulDevAgent;
const servers: HelloProcess[] = [];
let client: InProcessClient | undefined;

async function startServer(env: Record<string, string> = {}): Promise<HelloProcess> {
  const server = HelloProcess.start({
    port: await freePort(),
    consulAddress: consul.address,
    env: { GRPC_CHECK_INTERVAL_MS: '1000', ...env },
  });
  servers.push(server);
  return server;
}

before(async () => {
  consul = await ConsulDevAgent.start();
});

after(async () => {
  await client?.stop();
  await Promise.all(servers.map((server) => server.dispose()));
  await consul.stop();
});

test('a server registers with a TTL check and a gRPC check, both passing, and deregisters on SIGTERM', async () => {
  const server = await startServer();
  const bothPassing = await eventually(async () => {
    const checks = await checksOf(consul.address, server.instanceId);
    return checks.length === 2 && checks.every((check) => check.Status === 'passing');
  }, 20_000);
  const checks = await checksOf(consul.address, server.instanceId);
  assert.ok(bothPassing, `checks: ${JSON.stringify(checks)}\n${server.logs}`);
  assert.deepEqual(checks.map((check) => check.Type).sort(), ['grpc', 'ttl']);

  server.signal('SIGTERM');
  assert.equal(await server.waitForExit(), 0);
  assert.deepEqual(await checksOf(consul.address, server.instanceId), [], 'deregistered on SIGTERM');
});

test('a stopped heartbeat turns the instance critical and the resolver drops it; it comes back when the heartbeat does', async () => {
  const steady = await startServer({ TTL_MS: '2000', GRPC_CHECK_INTERVAL_MS: '0' });
  const frozen = await startServer({ TTL_MS: '2000', GRPC_CHECK_INTERVAL_MS: '0' });
  assert.ok(await eventually(async () => (await passingIds(consul.address)).length === 2, 20_000), 'both registered');
  client = startClient({ consulAddress: consul.address, ratePerSecond: 50 });
  const resolved = (): string[] => client?.stats.snapshot().resolvedInstances ?? [];
  assert.ok(await eventually(() => resolved().length === 2, 20_000), `resolved: ${resolved()}`);

  frozen.signal('SIGSTOP');
  const critical = await eventually(async () => (await checksOf(consul.address, frozen.instanceId))[0]?.Status === 'critical', 20_000);
  assert.ok(critical, 'TTL check critical after the heartbeat stopped');
  assert.ok(await eventually(() => resolved().length === 1, 20_000), `resolver dropped it: ${resolved()}`);
  assert.ok(resolved()[0]?.startsWith(steady.instanceId));

  frozen.signal('SIGCONT');
  assert.ok(await eventually(() => resolved().length === 2, 20_000), `resolver took it back: ${resolved()}`);
  await client.stop();
  client = undefined;
  await Promise.all([steady.dispose(), frozen.dispose()]);
});

test('after Consul restarts (forgetting everything) servers re-register and the client recovers without restarting', async () => {
  const a = await startServer({ TTL_MS: '4000' });
  const b = await startServer({ TTL_MS: '4000' });
  const ids = [a.instanceId, b.instanceId].sort();
  assert.ok(await eventually(async () => (await passingIds(consul.address)).join() === ids.join(), 20_000));
  client = startClient({ consulAddress: consul.address, ratePerSecond: 100 });
  assert.ok(await eventually(() => (client?.stats.snapshot().resolvedInstances.length ?? 0) === 2, 20_000));

  await consul.restart(1_000);
  // Each server's heartbeat (every TTL/4 = 1 s) meets a Consul that forgot it, and registers again.
  const reRegistered = await eventually(async () => (await passingIds(consul.address)).join() === ids.join(), 20_000, 20);
  assert.ok(reRegistered, `passing after restart: ${await passingIds(consul.address)}\n${a.logs}`);
  const before = client.stats.snapshot();
  assert.ok(await eventually(() => (client?.stats.snapshot().ok ?? 0) > before.ok + 100, 20_000), 'calls go on');
  const stats = client.stats.snapshot();
  assert.equal(stats.failed, 0, `failed calls: ${JSON.stringify(stats.failedByCode)} ${JSON.stringify(stats.lastFailure)}`);
  assert.equal(stats.wrong, 0);
  assert.ok(stats.resolverErrors > 0, 'the resolver saw Consul go away');
  assert.equal(stats.resolvedInstances.length, 2);
  await client.stop();
  client = undefined;
});

test("poll mode (the seed's 500 ms design) resolves and follows changes too", async () => {
  const first = await startServer();
  assert.ok(await eventually(async () => (await passingIds(consul.address)).includes(first.instanceId), 20_000));
  client = startClient({ consulAddress: consul.address, ratePerSecond: 50, target: 'consul:///HelloService?mode=poll&interval=500ms' });
  const resolvedIds = (): string[] => (client?.stats.snapshot().resolvedInstances ?? []).map(instanceIdOf);
  assert.ok(await eventually(() => resolvedIds().includes(first.instanceId), 20_000), `resolved: ${resolvedIds()}`);
  const second = await startServer();
  assert.ok(await eventually(() => resolvedIds().includes(second.instanceId), 20_000), `followed the new instance: ${resolvedIds()}`);
  assert.ok(await eventually(() => (client?.stats.snapshot().byInstance[second.instanceId] ?? 0) > 0, 20_000), 'and calls it');
  const stats = client.stats.snapshot();
  assert.equal(stats.failed, 0);
  assert.equal(stats.wrong, 0);
  await client.stop();
  client = undefined;
});
