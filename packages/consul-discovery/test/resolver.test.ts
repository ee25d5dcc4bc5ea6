import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { consulDiscoveryOptions, type DiscoveryEvent, registerConsulResolver, sharedWatches } from '../src/index.js';
import { ConsulDevAgent } from '../src/testing/index.js';
import { aclAgentArgs, consulRequest, createToken, deregisterInstance, eventually, registerInstance } from './support/consul-api.js';
import { CountingProxy } from '../src/testing/index.js';
import { EchoClient, type EchoServer, say, startEchoServer } from './support/echo-server.js';
import { recordingResolver } from './support/recording-listener.js';
import { TcpRelay } from './support/tcp-relay.js';
import { test } from './support/timed-test.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** The resolver against real Consul agents and real gRPC servers. */
registerConsulResolver();
let consul: ConsulDevAgent;
const servers: EchoServer[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

before(async () => {
  consul = await ConsulDevAgent.start();
  for (const name of ['echo-a', 'echo-b', 'echo-c']) servers.push(await startEchoServer(name));
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  for (const server of servers) server.stop();
  await consul?.stop();
});

/** `<prefix>-a` and `<prefix>-b` of `service`, on echo-a's and echo-b's ports unless told others. */
async function registerTwo(service: string, prefix: string, ports = [servers[0]?.port ?? 0, servers[1]?.port ?? 0]): Promise<void> {
  await registerInstance(consul.address, service, `${prefix}-a`, ports[0] ?? 0);
  await registerInstance(consul.address, service, `${prefix}-b`, ports[1] ?? 0);
}

function client(target: string, options: grpc.ChannelOptions = {}): InstanceType<typeof EchoClient> {
  const made = new EchoClient(target, grpc.credentials.createInsecure(), options);
  cleanups.push(() => made.close());
  return made;
}

test('a channel that went idle calls again: the resolver pushes the current set when it is woken (regression)', async () => {
  const [a] = servers as [EchoServer];
  await registerInstance(consul.address, 'IdleEcho', 'idle-a', a.port);
  const idle = client(`consul://${consul.address}/IdleEcho`, { 'grpc.client_idle_timeout_ms': 1_000 });
  assert.equal(await say(idle), 'echo-a');
  assert.ok(
    await eventually(() => idle.getChannel().getConnectivityState(false) === grpc.connectivityState.IDLE, 20_000, 100),
    'the channel went idle',
  );
  assert.equal(await say(idle), 'echo-a', 'the second call, after the idle period, is answered');
});

test('the same set is not pushed twice when Consul answers without a change to the passing set', async () => {
  const [a, b] = servers as [EchoServer, EchoServer];
  await registerInstance(consul.address, 'DupEcho', 'dup-a', a.port);
  const proxy = await CountingProxy.start({ host: '127.0.0.1', port: consul.httpPort });
  cleanups.push(() => proxy.close());
  const { resolver, pushes } = recordingResolver(`consul://${proxy.address}/DupEcho`);
  cleanups.push(() => resolver.destroy());
  resolver.updateResolution();
  assert.ok(await eventually(() => pushes.length === 1, 20_000));
  const queriesBefore = proxy.count('/v1/health/service/DupEcho');
  // A second instance that is critical: Consul's index for the service moves, the passing set does not.
  await consulRequest(consul.address, 'PUT', '/v1/agent/service/register', {
    Name: 'DupEcho',
    ID: 'dup-b',
    Address: '127.0.0.1',
    Port: b.port,
    Check: { TTL: '60s', Status: 'critical' },
  });
  assert.ok(await eventually(() => proxy.count('/v1/health/service/DupEcho') > queriesBefore, 20_000), 'the blocking query returned');
  await sleep(300);
  assert.equal(pushes.length, 1, JSON.stringify(pushes));
});

test('no passing instance: calls fail UNAVAILABLE naming the service, and wait for one only where the caller asked', async () => {
  const [a] = servers as [EchoServer];
  await registerInstance(consul.address, 'EmptyEcho', 'empty-a', a.port);
  const empty = client(`consul://${consul.address}/EmptyEcho`);
  assert.equal(await say(empty), 'echo-a');
  await deregisterInstance(consul.address, 'empty-a');
  assert.ok(
    await eventually(async () => {
      try {
        await say(empty, 1_000);
        return false;
      } catch (error) {
        return (error as grpc.ServiceError).code === grpc.status.UNAVAILABLE;
      }
    }, 20_000),
  );
  await assert.rejects(
    say(empty),
    (error: grpc.ServiceError) => error.code === grpc.status.UNAVAILABLE && error.details === 'no passing instance of EmptyEcho in Consul',
  );
  // With waitForReady the call waits for an instance instead of failing (its deadline: a safety net).
  const waiting = new Promise<string>((resolve, reject) =>
    empty.Say(Buffer.from('hi'), new grpc.Metadata({ waitForReady: true }), { deadline: Date.now() + 20_000 }, (error, answer) =>
      error ? reject(error) : resolve(answer?.toString() ?? ''),
    ),
  );
  await sleep(1_000);
  await registerInstance(consul.address, 'EmptyEcho', 'empty-a', a.port);
  assert.equal(await waiting, 'echo-a');
});

test('one watch per (Consul, service, options): 100 channels to one service cost one blocking query, and it stops with the last channel', async () => {
  await registerTwo('SharedEcho', 'shared');
  const proxy = await CountingProxy.start({ host: '127.0.0.1', port: consul.httpPort });
  cleanups.push(() => proxy.close());
  const watchesBefore = sharedWatches.size;
  const channels = Array.from(
    { length: 100 },
    () => new EchoClient(`consul://${proxy.address}/SharedEcho`, grpc.credentials.createInsecure()),
  );
  const answers = await Promise.all(channels.map((channel) => say(channel)));
  assert.ok(
    answers.every((answer) => answer === 'echo-a' || answer === 'echo-b'),
    JSON.stringify(answers.slice(0, 5)),
  );
  const queries = (): number => proxy.count('/v1/health/service/SharedEcho');
  assert.ok(await eventually(() => queries() >= 2, 20_000), 'the blocking query was sent');
  // Then no other: a watch per channel would have sent more by now.
  await sleep(500);
  assert.equal(sharedWatches.size, watchesBefore + 1, 'one shared watch');
  // The first query does not block; the second is the one blocking query.
  assert.equal(queries(), 2, JSON.stringify(proxy.requests.map((r) => r.path)));
  for (const channel of channels) channel.close();
  assert.ok(await eventually(() => sharedWatches.size === watchesBefore, 20_000), 'the watch stopped with its last channel');
});

test('two channels in one process: two Consul agents, two tokens, two load-balancing policies at once', async () => {
  const management = 'c0ffee00-0000-4000-8000-000000000001';
  const [agentA, agentB] = [
    await ConsulDevAgent.start({ args: aclAgentArgs(management) }),
    await ConsulDevAgent.start({ args: aclAgentArgs(management) }),
  ];
  cleanups.push(
    () => agentA.stop(),
    () => agentB.stop(),
  );
  const [a, b, c] = servers as [EchoServer, EchoServer, EchoServer];
  const readRules = 'service "TwoEcho" { policy = "read" }\nnode_prefix "" { policy = "read" }';
  const tokenA = 'aaaaaaaa-0000-4000-8000-00000000000a';
  const tokenB = 'bbbbbbbb-0000-4000-8000-00000000000b';
  await createToken(agentA.address, management, 'read-two-echo', readRules, tokenA);
  await createToken(agentB.address, management, 'read-two-echo', readRules, tokenB);
  for (const [agent, id, server] of [
    [agentA, 'two-a', a],
    [agentA, 'two-b', b],
    [agentB, 'two-c', c],
  ] as const) {
    await registerInstance(agent.address, 'TwoEcho', id, server.port, { token: management });
  }
  const roundRobin = client(`consul://${agentA.address}/TwoEcho`, consulDiscoveryOptions({ connection: { token: tokenA, env: {} } }));
  const pickFirst = client(`consul://${agentB.address}/TwoEcho`, {
    ...consulDiscoveryOptions({ connection: { token: tokenB, env: {} } }),
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ pick_first: {} }] }),
  });
  const fromA = new Set<string>();
  for (let i = 0; i < 10; i += 1) fromA.add(await say(roundRobin));
  assert.deepEqual([...fromA].sort(), ['echo-a', 'echo-b'], "round robin over agent A's two instances");
  for (let i = 0; i < 5; i += 1) assert.equal(await say(pickFirst), 'echo-c', "agent B's instance only");
  // A's token means nothing to B: that channel is refused, with the reason.
  const wrongToken = client(`consul://${agentB.address}/TwoEcho`, consulDiscoveryOptions({ connection: { token: tokenA, env: {} } }));
  await assert.rejects(
    say(wrongToken),
    (error: grpc.ServiceError) => error.code === grpc.status.UNAVAILABLE && /answered 403: ACL not found/.test(error.details),
  );
});

test('Consul away, then back with the same instances: the channel is told the set again and onEvent hears it after the error (regression)', async () => {
  const [a, b] = servers as [EchoServer, EchoServer];
  await registerTwo('BackEcho', 'back');
  // Consul behind a relay that can be cut: gone for its clients, its registrations kept.
  const link = await TcpRelay.start({ host: '127.0.0.1', port: consul.httpPort });
  cleanups.push(() => link.cut());
  const events: DiscoveryEvent[] = [];
  const told = (): string[] =>
    events.flatMap((event) => {
      if (event.type === 'error') return ['error'];
      return event.type === 'instances' ? [event.instances.map((instance) => instance.id).join(',')] : [];
    });
  const target = `consul://${link.address}/BackEcho`;
  const options = consulDiscoveryOptions({ onEvent: (event) => events.push(event), tuning: { backoff: { initialMs: 100, maxMs: 300 } } });
  const back = client(target, options);
  const { resolver, pushes } = recordingResolver(target, options);
  cleanups.push(() => resolver.destroy());
  resolver.updateResolution();
  assert.match(await say(back), /^echo-[ab]$/);
  await link.cut();
  assert.ok(await eventually(() => told().includes('error'), 20_000), `the error was told: ${told()}`);
  await link.restore();
  assert.ok(
    await eventually(() => told().slice(told().indexOf('error')).includes('back-a,back-b'), 20_000),
    `the set after the error: ${told()}`,
  );
  const lastPush = pushes.at(-1);
  assert.ok(lastPush && 'endpoints' in lastPush, `the channel was told the set last: ${JSON.stringify(pushes)}`);
  assert.deepEqual(lastPush.endpoints, [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
  const answered = new Set<string>();
  for (let i = 0; i < 10; i += 1) answered.add(await say(back));
  assert.deepEqual([...answered].sort(), ['echo-a', 'echo-b']);
});

test('a channel whose service config sets only methods (a retry policy) still balances round robin over the instances (regression)', async () => {
  await registerTwo('MethodsEcho', 'methods');
  const retryPolicy = {
    maxAttempts: 3,
    initialBackoff: '0.1s',
    maxBackoff: '1s',
    backoffMultiplier: 2,
    retryableStatusCodes: ['UNAVAILABLE'],
  };
  const retrying = client(`consul://${consul.address}/MethodsEcho`, {
    'grpc.service_config': JSON.stringify({ methodConfig: [{ name: [{ service: 'example.Echo' }], retryPolicy }] }),
  });
  const perServer = new Map<string, number>();
  for (let i = 0; i < 20; i += 1) {
    const answer = await say(retrying);
    perServer.set(answer, (perServer.get(answer) ?? 0) + 1);
  }
  assert.deepEqual([...perServer.keys()].sort(), ['echo-a', 'echo-b'], JSON.stringify([...perServer]));
  assert.ok(
    [...perServer.values()].every((calls) => calls >= 5),
    JSON.stringify([...perServer]),
  );
});

test('100 channels with equal discovery settings, each its own options object and onEvent, share one connection per instance', async () => {
  const [a, b] = servers as [EchoServer, EchoServer];
  // Relays count the TCP connections each backend accepts.
  const backends = [await TcpRelay.start({ host: '127.0.0.1', port: a.port }), await TcpRelay.start({ host: '127.0.0.1', port: b.port })];
  cleanups.push(...backends.map((backend) => () => backend.cut()));
  await registerTwo(
    'PooledEcho',
    'pooled',
    backends.map((backend) => backend.port),
  );
  const channels = Array.from(
    { length: 100 },
    () =>
      new EchoClient(
        `consul://${consul.address}/PooledEcho`,
        grpc.credentials.createInsecure(),
        consulDiscoveryOptions({ connection: { env: {} }, onEvent: () => undefined, tuning: { minQueryIntervalMs: 50 } }),
      ),
  );
  const answers = await Promise.all(channels.map((channel) => say(channel)));
  assert.ok(answers.every((answer) => answer === 'echo-a' || answer === 'echo-b'));
  // round_robin connects to every instance: once both have a connection, a second to either would show within a second.
  assert.ok(await eventually(() => backends.every((backend) => backend.accepted > 0), 20_000), 'both instances connected to');
  await sleep(1_000);
  assert.deepEqual(
    backends.map((backend) => backend.accepted),
    [1, 1],
    'connections accepted per instance',
  );
  for (const channel of channels) channel.close();
});
