import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { consulDiscoveryOptions, registerConsulResolver } from '../src/index.js';
import { agentFixture } from './support/agent-fixture.js';
import { recordingResolver } from './support/recording-listener.js';
import { consulRequest, eventually } from './support/consul-api.js';
import { EchoClient, type EchoServer } from './support/echo-server.js';
import { TcpRelay } from './support/tcp-relay.js';
import { test } from './support/timed-test.js';

/**
 * The preconnect option against a real agent: a connection to an instance
 * registered but critical, which the channel takes over when the instance
 * passes. The instance sits behind a TcpRelay, which counts the connections
 * it accepts: one shared connection is 1, a channel that connected on its
 * own is 2.
 */
registerConsulResolver();
const fixture = agentFixture(['echo-new']);

/** `id` of `service`, registered behind a new relay with a TTL check not yet passed. */
async function registerCritical(service: string, id: string): Promise<TcpRelay> {
  const [server] = fixture.servers as [EchoServer];
  const relay = await TcpRelay.start({ host: '127.0.0.1', port: server.port });
  fixture.cleanup(() => relay.cut());
  await consulRequest(fixture.consul.address, 'PUT', '/v1/agent/service/register', {
    Name: service,
    ID: id,
    Address: '127.0.0.1',
    Port: relay.port,
    Check: { CheckID: `${id}:ttl`, TTL: '60s', Status: 'critical' },
  });
  return relay;
}

function preconnectingClient(service: string, preconnect: { maxWaitMs?: number } = {}): InstanceType<typeof EchoClient> {
  const credentials = grpc.credentials.createInsecure();
  const client = new EchoClient(
    `consul://${fixture.consul.address}/${service}`,
    credentials,
    consulDiscoveryOptions({ preconnect: { credentials, ...preconnect } }),
  );
  fixture.cleanup(() => client.close());
  // The resolver starts with the channel's first connection attempt.
  client.getChannel().getConnectivityState(true);
  return client;
}

function sayWaiting(client: InstanceType<typeof EchoClient>): Promise<string> {
  return new Promise((resolve, reject) =>
    client.Say(Buffer.from('hi'), new grpc.Metadata({ waitForReady: true }), { deadline: Date.now() + 20_000 }, (error, answer) =>
      error ? reject(error) : resolve(answer?.toString() ?? ''),
    ),
  );
}

test('a critical instance is connected to before it passes, and its first call uses that same connection', async () => {
  const relay = await registerCritical('PreEcho', 'pre-new');
  const client = preconnectingClient('PreEcho');
  assert.ok(await eventually(() => relay.accepted === 1, 20_000), `the side connection was opened (accepted ${relay.accepted})`);
  await consulRequest(fixture.consul.address, 'PUT', `/v1/agent/check/pass/${encodeURIComponent('pre-new:ttl')}`);
  assert.equal(await sayWaiting(client), 'echo-new');
  assert.equal(client.getChannel().getConnectivityState(false), grpc.connectivityState.READY);
  await sleep(500);
  assert.equal(relay.accepted, 1, 'the channel used the side connection instead of opening its own');
  assert.equal(relay.openConnections, 1, 'the connection stays open after the side channel closed');
  assert.equal(await sayWaiting(client), 'echo-new');
  assert.equal(relay.accepted, 1);
});

test('a side connection to an instance that never passes is closed after maxWaitMs, and not opened again', async () => {
  const relay = await registerCritical('NeverEcho', 'never-new');
  preconnectingClient('NeverEcho', { maxWaitMs: 1_000 });
  assert.ok(await eventually(() => relay.accepted === 1, 20_000), 'the side connection was opened');
  assert.ok(await eventually(() => relay.openConnections === 0, 20_000), `closed after maxWaitMs (open: ${relay.openConnections})`);
  // Another answer from Consul for the service (a second, passing-less registration) must not reopen it.
  await consulRequest(fixture.consul.address, 'PUT', '/v1/agent/service/register', {
    Name: 'NeverEcho',
    ID: 'never-other',
    Address: '127.0.0.2',
    Port: relay.port,
    Check: { CheckID: 'never-other:ttl', TTL: '60s', Status: 'passing' },
  });
  await sleep(1_000);
  assert.equal(relay.accepted, 1, 'not reopened');
});

test('preconnect options that cannot work fail the channel with one line naming the option', async () => {
  const cases: [unknown, string][] = [
    [{ credentials: {} }, 'preconnect.credentials must be the grpc.ChannelCredentials object the client was given'],
    [{ credentials: grpc.credentials.createInsecure(), maxInstances: 0 }, 'preconnect.maxInstances must be a whole number above 0, got 0'],
  ];
  for (const [preconnect, message] of cases) {
    const options = consulDiscoveryOptions({ preconnect: preconnect as never });
    const { resolver, pushes } = recordingResolver(`consul://${fixture.consul.address}/BadPre`, options);
    fixture.cleanup(() => resolver.destroy());
    resolver.updateResolution();
    assert.ok(await eventually(() => pushes.length > 0, 20_000));
    assert.deepEqual(
      pushes.map((push) => ('error' in push ? push.error : 'endpoints')),
      [message],
    );
  }
});
