import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { registerConsulResolver } from '../src/index.js';
import { ConsulDevAgent } from '../src/testing/index.js';
import { consulRequest, eventually } from './support/consul-api.js';
import { EchoClient, type EchoServer, say, startEchoServer } from './support/echo-server.js';
import { recordingResolver } from './support/recording-listener.js';
import { test } from './support/timed-test.js';

/**
 * `near` and `limit` against a real Consul agent: nodes registered through
 * the catalog, with network coordinates set through Consul's coordinate API
 * (a dev agent has no other node to measure), so that Consul's own sort is
 * what the resolver keeps.
 */
registerConsulResolver();
let consul: ConsulDevAgent;
const servers: EchoServer[] = [];
const resolvers: { destroy(): void }[] = [];

after(async () => {
  for (const resolver of resolvers) resolver.destroy();
  for (const server of servers) server.stop();
  await consul?.stop();
});

/** A node (catalog API, no agent on it) with one instance of NearEcho. */
async function registerOnNode(node: string, id: string, port: number): Promise<void> {
  await consulRequest(consul.address, 'PUT', '/v1/catalog/register', {
    Node: node,
    Address: '127.0.0.1',
    Service: { ID: id, Service: 'NearEcho', Address: '127.0.0.1', Port: port },
  });
}

/** Gives `node` coordinates `seconds` away from the origin, and waits until Consul has applied them (it batches updates). */
async function placeNode(node: string, seconds: number): Promise<void> {
  const coord = { Vec: [seconds, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5 };
  await consulRequest(consul.address, 'PUT', '/v1/coordinate/update', { Node: node, Segment: '', Coord: coord });
  const applied = await eventually(async () => {
    const entries = (await consulRequest(consul.address, 'GET', `/v1/coordinate/node/${node}`)) as { Coord: { Vec: number[] } }[];
    return entries[0]?.Coord.Vec[0] === seconds;
  }, 20_000);
  assert.ok(applied, `Consul applied ${node}'s coordinates`);
}

/** The instance ids of the last set a resolver pushed, in its order. */
function lastSet(target: string): () => string[] | undefined {
  const { resolver, pushes } = recordingResolver(target);
  resolvers.push(resolver);
  resolver.updateResolution();
  const portToId = new Map(servers.map((server, i) => [`127.0.0.1:${server.port}`, ['near-1', 'near-2', 'near-3', 'near-0'][i] ?? '']));
  return () => {
    const last = pushes.at(-1);
    return last && 'endpoints' in last ? last.endpoints.map((endpoint) => portToId.get(endpoint) ?? endpoint) : undefined;
  };
}

before(async () => {
  consul = await ConsulDevAgent.start();
  for (const name of ['echo-far', 'echo-near', 'echo-mid', 'echo-unmeasured']) servers.push(await startEchoServer(name));
  const [far, near, mid, unmeasured] = servers as [EchoServer, EchoServer, EchoServer, EchoServer];
  // The node distances are measured from; no instance on it.
  await consulRequest(consul.address, 'PUT', '/v1/catalog/register', { Node: 'node-origin', Address: '127.0.0.1' });
  // Ids whose sorted order (near-0..3) is not the order by distance, nor by node name.
  await registerOnNode('node-far', 'near-1', far.port);
  await registerOnNode('node-near', 'near-2', near.port);
  await registerOnNode('node-mid', 'near-3', mid.port);
  await registerOnNode('node-unmeasured', 'near-0', unmeasured.port);
  await placeNode('node-origin', 0);
  await placeNode('node-near', 0.001);
  await placeNode('node-mid', 0.01);
  await placeNode('node-far', 0.1);
});

test("near: the instances keep Consul's order, nearest first, and nodes without coordinates come last (regression: they were sorted by id)", async () => {
  const ids = lastSet(`consul://${consul.address}/NearEcho?near=node-origin`);
  assert.ok(await eventually(() => ids() !== undefined, 20_000));
  assert.deepEqual(ids(), ['near-2', 'near-3', 'near-1', 'near-0']);
});

test('near a node without coordinates: Consul does not sort, and its usual order (by node name) stands', async () => {
  const ids = lastSet(`consul://${consul.address}/NearEcho?near=node-unmeasured`);
  assert.ok(await eventually(() => ids() !== undefined, 20_000));
  assert.deepEqual(ids(), ['near-1', 'near-3', 'near-2', 'near-0']);
});

test('limit=N: the nearest N; calls go to the nearest instance only with limit=1', async () => {
  const ids = lastSet(`consul://${consul.address}/NearEcho?near=node-origin&limit=3`);
  assert.ok(await eventually(() => ids() !== undefined, 20_000));
  assert.deepEqual(ids(), ['near-2', 'near-3', 'near-1']);
  const nearest = new EchoClient(`consul://${consul.address}/NearEcho?near=node-origin&limit=1`, grpc.credentials.createInsecure());
  try {
    for (let i = 0; i < 5; i += 1) assert.equal(await say(nearest), 'echo-near');
  } finally {
    nearest.close();
  }
});

test('with near, a new order alone is pushed: the nearest node moved away, seen at the next answer', async () => {
  const ids = lastSet(`consul://${consul.address}/NearEcho?near=node-origin`);
  assert.ok(await eventually(() => ids() !== undefined, 20_000));
  await placeNode('node-near', 1);
  // A coordinate does not wake a blocking query; a change to the service does (a critical instance: the passing set stays).
  await consulRequest(consul.address, 'PUT', '/v1/catalog/register', {
    Node: 'node-origin',
    Address: '127.0.0.1',
    Service: { ID: 'near-critical', Service: 'NearEcho', Address: '127.0.0.1', Port: 1 },
    Check: { CheckID: 'near-critical', Name: 'down', Status: 'critical', ServiceID: 'near-critical' },
  });
  assert.ok(await eventually(() => ids()?.join() === 'near-3,near-1,near-2,near-0', 20_000), `the new order was pushed: ${ids()?.join()}`);
  await placeNode('node-near', 0.001);
});
