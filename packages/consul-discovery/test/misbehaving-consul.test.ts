import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { DISCOVERY_OPTIONS_KEY, registerConsulResolver } from '../src/index.js';
import { ConsulDouble } from './support/consul-double.js';
import { EchoClient, say } from './support/echo-server.js';
import { eventually } from '../src/testing/eventually.js';

/**
 * Consul answering errors, or accepting connections and never answering,
 * through a real channel: calls fail with a status that names Consul, nothing
 * crashes, and closing the client closes every connection the resolver opened.
 */
registerConsulResolver();
const doubles: ConsulDouble[] = [];
after(async () => {
  for (const double of doubles) await double.close();
});

async function callOnce(target: string, deadlineMs: number): Promise<grpc.ServiceError> {
  const client = new EchoClient(target, grpc.credentials.createInsecure());
  try {
    await say(client, deadlineMs);
    throw new Error('a call without instances succeeded');
  } catch (error) {
    return error as grpc.ServiceError;
  } finally {
    client.close();
  }
}

test('Consul answering 500: the call fails UNAVAILABLE naming the Consul query, and connections close with the client', async () => {
  const consul = await ConsulDouble.start(() => ({ status: 500, body: 'boom' }));
  doubles.push(consul);
  // Fails as soon as the resolver tells the error; the deadline is a safety net.
  const error = await callOnce(`consul://${consul.address}/Echo`, 20_000);
  assert.equal(error.code, grpc.status.UNAVAILABLE, error.message);
  assert.match(error.details, /Consul query for Echo failed: Consul at http:\/\/127\.0\.0\.1:\d+ answered 500: boom/);
  assert.ok(await eventually(() => consul.openSockets.size === 0, 20_000, 10), 'no connection to Consul outlives the client');
});

test('Consul accepting connections and never answering: the call ends at its deadline and the watch is torn down', async () => {
  const consul = await ConsulDouble.start(() => ({ hang: true }));
  doubles.push(consul);
  const error = await callOnce(`consul://${consul.address}/Echo`, 1_500);
  assert.equal(error.code, grpc.status.DEADLINE_EXCEEDED, error.message);
  assert.ok(await eventually(() => consul.openSockets.size === 0, 20_000, 10), 'closing the client aborted the hanging query');
});

test('a malformed target is refused when the client is made, with the reason, not later as a hang', () => {
  // grpc-js asks the resolver for the default authority while constructing the channel.
  assert.throws(() => new EchoClient('consul:///Echo?mode=push', grpc.credentials.createInsecure()), {
    message: /mode must be "blocking" or "poll", got "push"/,
  });
});

test('a connection that cannot work (an unreadable CA file) fails calls with UNAVAILABLE naming it', async () => {
  const client = new EchoClient('consul://https:8501/Echo', grpc.credentials.createInsecure(), {
    [DISCOVERY_OPTIONS_KEY]: { connection: { https: true, tls: { caFile: '/nonexistent/ca.pem' }, env: {} } },
  });
  try {
    await assert.rejects(
      say(client, 20_000),
      (error: grpc.ServiceError) =>
        error.code === grpc.status.UNAVAILABLE && /cannot read the CA certificate file \/nonexistent\/ca.pem/.test(error.details),
    );
  } finally {
    client.close();
  }
});
