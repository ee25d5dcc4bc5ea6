import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { consulDiscoveryOptions, type DiscoveryEvent, registerConsulResolver } from '../src/index.js';
import { CountingProxy } from '../src/testing/index.js';
import { agentFixture, answersOf } from './support/agent-fixture.js';
import { consulRequest, eventually, registerInstance } from './support/consul-api.js';
import { say } from './support/echo-server.js';
import { recordingLogger } from './support/recording-logger.js';
import { test } from './support/timed-test.js';

/**
 * A gRPC service config kept in Consul KV (`service-config` in the target),
 * against a real agent and real servers: which servers answer tells which
 * load-balancing policy the channel runs.
 */
registerConsulResolver();
const fixture = agentFixture(['kv-a', 'kv-b'], async ({ consul, servers }) => {
  for (const server of servers) await registerInstance(consul.address, 'KvEcho', server.name, server.port);
});
const { client } = fixture;

const PICK_FIRST = JSON.stringify({ loadBalancingConfig: [{ pick_first: {} }] });
const ROUND_ROBIN = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });

async function putKey(key: string, value: string): Promise<void> {
  const response = await fetch(`http://${fixture.consul.address}/v1/kv/${key}`, { method: 'PUT', body: value });
  assert.ok(response.ok, `PUT ${key}: ${response.status}`);
}

const bothAnswer = (counts: Record<string, number>): boolean => Object.keys(counts).length === 2;
const oneAnswers = (counts: Record<string, number>): boolean => Object.keys(counts).length === 1;

test('the service config in KV drives the channel live; an invalid value is logged once and the last good config stays; a deleted key is the default again', async () => {
  const key = 'grpc/kv-echo.json';
  const logger = recordingLogger();
  const events: DiscoveryEvent[] = [];
  // The channel's own config is pick_first, so the KV config (round robin) and the default can be told apart.
  const channel = client(`consul://${fixture.consul.address}/KvEcho?service-config=${key}`, {
    ...consulDiscoveryOptions({ logger, onEvent: (event) => events.push(event) }),
    'grpc.service_config': PICK_FIRST,
  });
  assert.ok(oneAnswers(await answersOf(channel, 20)), "no key: the channel's own pick_first");

  await putKey(key, ROUND_ROBIN);
  assert.ok(await eventually(async () => bothAnswer(await answersOf(channel, 4)), 20_000), 'round robin from KV');
  assert.deepEqual(Object.values(await answersOf(channel, 20)), [10, 10], 'round robin: exactly every other call');

  const invalid = [
    '{"loadBalancingConfig": [',
    JSON.stringify({ loadBalancingConfig: [{ outlier_detection: { childPolicy: [{ round_robin: {} }] } }] }),
  ];
  const rejected = (): number => events.filter((event) => event.type === 'rejected').length;
  for (const [i, value] of invalid.entries()) {
    await putKey(key, value);
    assert.ok(await eventually(() => rejected() === i + 1, 20_000), `${value} was read and rejected`);
    assert.deepEqual(Object.values(await answersOf(channel, 20)), [10, 10], `still round robin after ${value}`);
  }
  const warnings = logger.lines.filter((line) => line.level === 'warn');
  assert.equal(warnings.length, 2, JSON.stringify(warnings));
  assert.match(
    warnings[0]?.message ?? '',
    /service config key grpc\/kv-echo\.json holds an invalid service config \(not JSON: .*\); KvEcho keeps the last good one/,
  );
  assert.match(
    warnings[1]?.message ?? '',
    /holds an invalid service config \(loadBalancingConfig outlier_detection: .*\); KvEcho keeps the last good one/,
  );
  assert.deepEqual(
    events.filter((event) => event.type === 'rejected').map((event) => event.type === 'rejected' && event.what),
    ['service-config', 'service-config'],
  );

  await consulRequest(fixture.consul.address, 'DELETE', `/v1/kv/${key}`);
  assert.ok(await eventually(async () => oneAnswers(await answersOf(channel, 20)), 20_000), "deleted: the channel's own pick_first again");
  assert.deepEqual(
    events.filter((event) => event.type === 'service-config').map((event) => event.type === 'service-config' && event.config !== null),
    [true, false],
    'applied once, then the default',
  );
});

test('a key that never held a valid config: the invalid value is logged once and the default (round robin) serves', async () => {
  const key = 'grpc/kv-echo-bad.json';
  await putKey(key, '{"methodConfig": "often"}');
  const logger = recordingLogger();
  const channel = client(`consul://${fixture.consul.address}/KvEcho?service-config=${key}`, consulDiscoveryOptions({ logger }));
  assert.ok(await eventually(async () => bothAnswer(await answersOf(channel, 4)), 20_000), 'round robin, the default');
  assert.deepEqual(Object.values(await answersOf(channel, 20)), [10, 10]);
  const warnings = logger.lines.filter((line) => line.level === 'warn');
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.match(warnings[0]?.message ?? '', /grpc\/kv-echo-bad\.json holds an invalid service config .*; KvEcho keeps the default/);
});

test('the KV config applies from the first call, and the default key is grpc/service-config/<service>', async () => {
  await putKey('grpc/service-config/KvEcho', PICK_FIRST);
  const channel = client(`consul://${fixture.consul.address}/KvEcho?service-config`);
  // Without it the first calls would go round robin, the library's default.
  assert.ok(oneAnswers(await answersOf(channel, 20)), 'pick_first from the first call');
});

test('one KV watch per (Consul, key): ten channels reading one key cost two KV requests (the first, then one blocking)', async () => {
  await putKey('grpc/kv-echo-shared.json', ROUND_ROBIN);
  const proxy = await CountingProxy.start({ host: '127.0.0.1', port: fixture.consul.httpPort });
  fixture.cleanup(() => proxy.close());
  const channels = Array.from({ length: 10 }, () => client(`consul://${proxy.address}/KvEcho?service-config=grpc/kv-echo-shared.json`));
  await Promise.all(channels.map((channel) => say(channel)));
  assert.ok(await eventually(() => proxy.count('/v1/kv/grpc%2Fkv-echo-shared.json') >= 2, 20_000), 'the blocking read was sent');
  // Then no other: a watch per channel would have sent more by now.
  await sleep(500);
  assert.equal(proxy.count('/v1/kv/grpc%2Fkv-echo-shared.json'), 2, JSON.stringify(proxy.requests.map((r) => r.path)));
});
