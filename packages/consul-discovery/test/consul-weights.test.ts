import assert from 'node:assert/strict';
import { registerConsulResolver } from '../src/index.js';
import { agentFixture, answersOf } from './support/agent-fixture.js';
import { consulRequest, eventually } from './support/consul-api.js';
import type { EchoClient, EchoServer } from './support/echo-server.js';
import { test } from './support/timed-test.js';

/**
 * Consul's service Weights (`weights=consul` in the target) against a real
 * agent and real servers. round_robin over the repeated endpoints makes the
 * split exact once every copy is READY, so the tests count exactly.
 */
registerConsulResolver();
const fixture = agentFixture(['heavy', 'light']);
const { client } = fixture;

type Weights = { Passing: number; Warning: number };

/**
 * Registers the two servers as `service`, 'heavy' and 'light', with these
 * Weights and a passing TTL check each (`<service>-<name>:ttl`). The
 * ConsulRegistrar has no Weights option: the agent's HTTP API does it.
 */
async function registerPair(service: string, heavy: Weights, light: Weights): Promise<void> {
  const [heavyServer, lightServer] = fixture.servers as [EchoServer, EchoServer];
  for (const [server, weights] of [
    [heavyServer, heavy],
    [lightServer, light],
  ] as const) {
    await consulRequest(fixture.consul.address, 'PUT', '/v1/agent/service/register', {
      Name: service,
      ID: `${service}-${server.name}`,
      Address: '127.0.0.1',
      Port: server.port,
      Weights: weights,
      Check: { CheckID: `${service}-${server.name}:ttl`, TTL: '60s', Status: 'passing' },
    });
  }
}

/** Until both servers answer within one cycle: every copy is connected (copies of one address share one connection). */
async function warmUp(channel: InstanceType<typeof EchoClient>): Promise<void> {
  assert.ok(await eventually(async () => Object.keys(await answersOf(channel, 4)).length === 2, 20_000), 'both servers answer');
}

test('Weights 3 and 1: exactly 3 of every 4 calls go to the heavy instance; without weights=consul, 1 of 2', async () => {
  await registerPair('WeightEcho', { Passing: 3, Warning: 1 }, { Passing: 1, Warning: 1 });
  const weighted = client(`consul://${fixture.consul.address}/WeightEcho?weights=consul`);
  await warmUp(weighted);
  assert.deepEqual(await answersOf(weighted, 400), { heavy: 300, light: 100 });
  const plain = client(`consul://${fixture.consul.address}/WeightEcho`);
  await warmUp(plain);
  assert.deepEqual(await answersOf(plain, 400), { heavy: 200, light: 200 });
});

test('an instance in warning is called at its Warning weight with weights=consul, and not at all without', async () => {
  await registerPair('WarnEcho', { Passing: 3, Warning: 1 }, { Passing: 1, Warning: 1 });
  const weighted = client(`consul://${fixture.consul.address}/WarnEcho?weights=consul`);
  const plain = client(`consul://${fixture.consul.address}/WarnEcho`);
  await warmUp(weighted);
  await warmUp(plain);
  await consulRequest(fixture.consul.address, 'PUT', `/v1/agent/check/warn/${encodeURIComponent('WarnEcho-heavy:ttl')}`);
  // 3:1 becomes 1:1 once the warning reaches the channel.
  assert.ok(await eventually(async () => (await answersOf(weighted, 4)).heavy === 2, 20_000), 'heavy at its Warning weight');
  assert.deepEqual(await answersOf(weighted, 400), { heavy: 200, light: 200 });
  assert.ok(await eventually(async () => (await answersOf(plain, 4)).light === 4, 20_000), 'warning instances are skipped by default');
  assert.deepEqual(await answersOf(plain, 40), { light: 40 });
});

test('under outlier_detection over round_robin the split holds; weighted_round_robin merges the copies of an address', async () => {
  await registerPair('PolicyEcho', { Passing: 3, Warning: 1 }, { Passing: 1, Warning: 1 });
  const serviceConfig = (policy: object): string => JSON.stringify({ loadBalancingConfig: [policy] });
  const outlier = client(`consul://${fixture.consul.address}/PolicyEcho?weights=consul`, {
    'grpc.service_config': serviceConfig({ outlier_detection: { child_policy: [{ round_robin: {} }] } }),
  });
  await warmUp(outlier);
  assert.deepEqual(await answersOf(outlier, 400), { heavy: 300, light: 100 });
  // Without load reports weighted_round_robin is round robin over distinct addresses. Its picker is
  // rebuilt (with random offsets) at each weight update, so the count is near 200 rather than exact;
  // Consul's weights would have given light exactly 100.
  const wrr = client(`consul://${fixture.consul.address}/PolicyEcho?weights=consul`, {
    'grpc.service_config': serviceConfig({ weighted_round_robin: {} }),
  });
  await warmUp(wrr);
  const split = await answersOf(wrr, 400);
  assert.ok((split.light ?? 0) >= 180 && (split.light ?? 0) <= 220, JSON.stringify(split));
});

test('a Warning weight of 0 takes an instance in warning out of the rotation, and it comes back when it passes again', async () => {
  await registerPair('ZeroEcho', { Passing: 1, Warning: 0 }, { Passing: 1, Warning: 1 });
  const weighted = client(`consul://${fixture.consul.address}/ZeroEcho?weights=consul`);
  await warmUp(weighted);
  const check = encodeURIComponent('ZeroEcho-heavy:ttl');
  await consulRequest(fixture.consul.address, 'PUT', `/v1/agent/check/warn/${check}`);
  assert.ok(await eventually(async () => (await answersOf(weighted, 4)).light === 4, 20_000), 'heavy out while it warns');
  assert.deepEqual(await answersOf(weighted, 40), { light: 40 });
  await consulRequest(fixture.consul.address, 'PUT', `/v1/agent/check/pass/${check}`);
  await warmUp(weighted);
  assert.deepEqual(await answersOf(weighted, 40), { heavy: 20, light: 20 });
});
