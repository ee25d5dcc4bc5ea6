import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { consulDiscoveryOptions, type DiscoveryEvent, InvalidTargetError, registerConsulResolver } from '../src/index.js';
import { ConsulDevAgent } from '../src/testing/index.js';
import { consulRequest, deregisterInstance, eventually, registerInstance } from './support/consul-api.js';
import { EchoClient, type EchoServer, startEchoServer } from './support/echo-server.js';
import { recordingLogger } from './support/recording-logger.js';
import { TcpRelay } from './support/tcp-relay.js';
import { test } from './support/timed-test.js';

/**
 * Datacenter failover against two real Consul dev agents federated over the
 * WAN (dc1 and dc2, one server each) and real gRPC servers: echo-dc1 (behind
 * a relay that can cut it off) registered in dc1, echo-dc2 in dc2. Every
 * channel asks each datacenter through that datacenter's own agent.
 */
registerConsulResolver();
let dc1: ConsulDevAgent;
let dc2: ConsulDevAgent;
let serverDc1: EchoServer;
let serverDc2: EchoServer;
const cleanups: (() => Promise<void> | void)[] = [];

before(async () => {
  dc1 = await ConsulDevAgent.start({ datacenter: 'dc1', wan: true });
  dc2 = await ConsulDevAgent.start({ datacenter: 'dc2', joinWan: [dc1.wanAddress] });
  serverDc1 = await startEchoServer('echo-dc1');
  serverDc2 = await startEchoServer('echo-dc2');
  const federated = await eventually(async () => {
    const known = (await consulRequest(dc1.address, 'GET', '/v1/catalog/datacenters')) as string[];
    return known.includes('dc2');
  }, 20_000);
  assert.ok(federated, 'dc1 and dc2 federated over the WAN');
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  serverDc1?.stop();
  serverDc2?.stop();
  await dc2?.stop();
  await dc1?.stop();
});

interface Channel {
  readonly client: InstanceType<typeof EchoClient>;
  readonly events: DiscoveryEvent[];
  readonly logger: ReturnType<typeof recordingLogger>;
}

/** A channel to `target`, dc1 asked through dc1's agent and dc2 through dc2's. */
function channel(target: string): Channel {
  const events: DiscoveryEvent[] = [];
  const logger = recordingLogger();
  const client = new EchoClient(
    target,
    grpc.credentials.createInsecure(),
    consulDiscoveryOptions({
      connection: { address: dc1.address, env: {} },
      datacenters: { dc1: { address: dc1.address }, dc2: { address: dc2.address } },
      onEvent: (event) => events.push(event),
      logger,
    }),
  );
  cleanups.push(() => client.close());
  return { client, events, logger };
}

/**
 * One call as the demo client makes it: waits for an instance (waitForReady),
 * 5 s deadline, and one retry when it fails UNAVAILABLE (a call in flight on a
 * connection that dropped), within the same deadline.
 */
function call(client: InstanceType<typeof EchoClient>, deadline = Date.now() + 5_000, retries = 1): Promise<string> {
  return new Promise<string>((resolve, reject) =>
    client.Say(Buffer.from('hi'), new grpc.Metadata({ waitForReady: true }), { deadline }, (error, answer) =>
      error ? reject(error) : resolve(answer?.toString() ?? ''),
    ),
  ).catch((error: grpc.ServiceError) => {
    if (error.code !== grpc.status.UNAVAILABLE || retries === 0) throw error;
    return call(client, deadline, retries - 1);
  });
}

/** How many of `n` calls, one after the other, each server answered (by name). */
async function countAnswers(client: InstanceType<typeof EchoClient>, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i += 1) {
    const by = await call(client);
    counts[by] = (counts[by] ?? 0) + 1;
  }
  return counts;
}

/** Calls one after the other until stopped: who answered each, when, and how many failed. */
function callLoop(client: InstanceType<typeof EchoClient>): {
  readonly answers: { readonly by: string; readonly at: number }[];
  readonly failures: string[];
  stop(): Promise<void>;
} {
  const answers: { by: string; at: number }[] = [];
  const failures: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        answers.push({ by: await call(client), at: Date.now() });
      } catch (error) {
        failures.push((error as Error).message);
      }
      await sleep(5);
    }
  })();
  return {
    answers,
    failures,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/**
 * Waits until the loop's answers come from `by`, after `since`; the time that
 * took, printed, not asserted (bench/multi-dc.ts measures it): the limit is a
 * safety net for a loaded machine, far below the 5 min a stuck blocking query
 * would hold a datacenter out.
 */
async function movedTo(loop: ReturnType<typeof callLoop>, by: string, since: number, timeoutMs = 15_000): Promise<number> {
  const moved = await eventually(() => loop.answers.some((answer) => answer.at > since && answer.by === by), timeoutMs, 10);
  assert.ok(moved, `calls reached ${by} within ${timeoutMs} ms; last answers: ${JSON.stringify(loop.answers.slice(-3))}`);
  const first = loop.answers.find((answer) => answer.at > since && answer.by === by);
  return (first?.at ?? since) - since;
}

const changes = (events: readonly DiscoveryEvent[]): string[] =>
  events.flatMap((event) => (event.type === 'datacenter' ? [`${event.from ?? 'none'} -> ${event.to ?? 'none'}`] : []));

async function registerBoth(service: string, dc1Port = serverDc1.port): Promise<void> {
  await registerInstance(dc1.address, service, `${service}-dc1`, dc1Port);
  await registerInstance(dc2.address, service, `${service}-dc2`, serverDc2.port);
}

/**
 * Calls in a loop while dc1's instance of `service` is deregistered, then
 * registered again: how long the calls took to reach dc2, and to come back.
 */
async function emptyDc1AndBack(
  service: string,
  client: InstanceType<typeof EchoClient>,
): Promise<{ loop: ReturnType<typeof callLoop>; failoverMs: number; failbackMs: number }> {
  const loop = callLoop(client);
  await movedTo(loop, 'echo-dc1', 0);
  const deregisteredAt = Date.now();
  await deregisterInstance(dc1.address, `${service}-dc1`);
  const failoverMs = await movedTo(loop, 'echo-dc2', deregisteredAt);
  const registeredAt = Date.now();
  await registerInstance(dc1.address, service, `${service}-dc1`, serverDc1.port);
  const failbackMs = await movedTo(loop, 'echo-dc1', registeredAt);
  await loop.stop();
  return { loop, failoverMs, failbackMs };
}

test('dc=dc1,dc2 prefers dc1: 100 calls all to dc1 while both pass, one datacenter change (none -> dc1), never dc2 first', async () => {
  await registerBoth('Prefers');
  const { client, events } = channel('consul:///Prefers?dc=dc1,dc2');
  const counts = await countAnswers(client, 100);
  assert.deepEqual(counts, { 'echo-dc1': 100 });
  assert.deepEqual(changes(events), ['none -> dc1']);
  const told = events.find((event) => event.type === 'instances');
  assert.equal(told?.type === 'instances' && told.datacenter, 'dc1');
});

test("dc1's instances deregistered: calls move to dc2, and back to dc1 when it has one again; no call fails", async () => {
  await registerBoth('Moves');
  const { client, events } = channel('consul:///Moves?dc=dc1,dc2');
  const { loop, failoverMs, failbackMs } = await emptyDc1AndBack('Moves', client);
  console.log(`dc1 emptied: failover ${failoverMs} ms, fail-back ${failbackMs} ms, ${loop.answers.length} calls`);
  assert.deepEqual(loop.failures, []);
  assert.deepEqual(changes(events), ['none -> dc1', 'dc1 -> dc2', 'dc2 -> dc1']);
  const away = events.find((event) => event.type === 'datacenter' && event.to === 'dc2');
  assert.equal(away?.type === 'datacenter' && away.reason, 'dc1: no passing instance');
});

test("dc1's Consul frozen (SIGSTOP) and dc1's server cut off: the probe fails dc1 over to dc2; thawed, back to dc1 (regression)", async () => {
  const relay = await TcpRelay.start({ host: '127.0.0.1', port: serverDc1.port });
  cleanups.push(() => relay.cut());
  await registerBoth('Frozen', relay.port);
  const { client, events } = channel('consul:///Frozen?dc=dc1,dc2');
  const loop = callLoop(client);
  await movedTo(loop, 'echo-dc1', 0);
  // A partition: dc1's Consul holds its blocking query without answering, and dc1's instance is gone.
  dc1.freeze();
  cleanups.push(() => dc1.thaw());
  const cutAt = Date.now();
  await relay.cut();
  // Keepalive is off here: the relay's cut drops the connection, grpc-js asks again, the probe (1 s) fails.
  const failoverMs = await movedTo(loop, 'echo-dc2', cutAt);
  await relay.restore();
  const thawedAt = Date.now();
  dc1.thaw();
  // Back once the thawed agent answers the query the probe started: without the start-over, the blocking
  // query it froze on would hold dc1 out for its whole wait (5 min), far past movedTo's limit.
  const failbackMs = await movedTo(loop, 'echo-dc1', thawedAt);
  await loop.stop();
  console.log(`dc1 frozen: failover ${failoverMs} ms, fail-back ${failbackMs} ms, ${loop.answers.length} calls`);
  assert.deepEqual(loop.failures, []);
  assert.deepEqual(changes(events), ['none -> dc1', 'dc1 -> dc2', 'dc2 -> dc1']);
  const away = events.find((event) => event.type === 'datacenter' && event.to === 'dc2');
  assert.equal(away?.type === 'datacenter' && away.reason, 'dc1: Consul unreachable');
});

test('a datacenter Consul does not know: one line naming it, and the channel keeps the datacenter it has', async () => {
  await registerBoth('Unknown');
  await consulRequest(dc1.address, 'POST', '/v1/query', { Name: 'unknown', Service: { Service: 'Unknown' } });
  // The prepared query tries dc9 first at every poll whose backoff for dc9 has run out.
  for (const target of [
    'consul:///Unknown?dc=dc1,dc9',
    'consul:///Unknown?dc=dc9,dc1',
    'consul:///Unknown?query=unknown&dc=dc9,dc1&interval=200ms',
  ]) {
    const { client, events, logger } = channel(target);
    const counts = await countAnswers(client, 20);
    // Long enough for dc9 to be asked again a few times (backoff from 200 ms).
    await sleep(2_000);
    assert.deepEqual(counts, { 'echo-dc1': 20 }, target);
    const lines = logger.lines.filter((line) => line.message.includes('dc9'));
    assert.equal(lines.length, 1, JSON.stringify(logger.lines));
    assert.match(lines[0]?.message ?? '', /^datacenter dc9 of consul:\/\/\/Unknown\?(dc|query)=.* failed \(dc9: Consul has no path to it/);
    assert.equal(lines[0]?.level, 'warn');
    assert.deepEqual(changes(events), ['none -> dc1'], target);
  }
});

test('a datacenter listed twice: the client is refused with one line naming it (InvalidTargetError)', async () => {
  assert.throws(
    () => channel('consul:///Twice?dc=dc1,dc2,dc1'),
    (error: unknown) =>
      error instanceof InvalidTargetError && error.message === 'consul target: dc names datacenter "dc1" twice, in "dc1,dc2,dc1"',
  );
});

test('merge-dc: both datacenters at once, calls spread over dc1 and dc2', async () => {
  await registerBoth('Merged');
  const { client, events } = channel('consul:///Merged?dc=dc1,dc2&merge-dc');
  const counts = await countAnswers(client, 20);
  // Round robin over the two: which comes first is its own choice.
  assert.ok((counts['echo-dc1'] ?? 0) >= 9 && (counts['echo-dc2'] ?? 0) >= 9, JSON.stringify(counts));
  const told = events.find((event) => event.type === 'instances');
  assert.equal(told?.type === 'instances' && told.instances.length, 2);
  assert.deepEqual(changes(events), []);
});

test('a prepared query with Failover: served by dc1, by dc2 when dc1 has none (Failovers 1), and by dc1 again', async () => {
  await registerBoth('Queried');
  const definition = { Name: 'queried', Service: { Service: 'Queried', OnlyPassing: true, Failover: { Datacenters: ['dc2'] } } };
  await consulRequest(dc1.address, 'POST', '/v1/query', definition);
  const { client, events } = channel('consul:///Queried?query=queried&dc=dc1,dc2&interval=200ms');
  const { loop, failoverMs, failbackMs } = await emptyDc1AndBack('Queried', client);
  console.log(`prepared query, dc1 emptied: failover ${failoverMs} ms, fail-back ${failbackMs} ms`);
  assert.deepEqual(loop.failures, []);
  assert.deepEqual(changes(events), ['none -> dc1', 'dc1 -> dc2', 'dc2 -> dc1']);
  const fromDc2 = events.find((event) => event.type === 'instances' && event.datacenter === 'dc2');
  assert.equal(fromDc2?.type === 'instances' && fromDc2.failovers, 1);
});

test("dc1's Consul killed: calls move to dc2, whose own agent still answers, with the dual watch and with the prepared query executed at dc2; no call fails", async () => {
  await registerBoth('Killed');
  // Defined in each datacenter, as a prepared query must be to run where its own Consul is gone.
  await consulRequest(dc1.address, 'POST', '/v1/query', {
    Name: 'killed',
    Service: { Service: 'Killed', Failover: { Datacenters: ['dc2'] } },
  });
  await consulRequest(dc2.address, 'POST', '/v1/query', {
    Name: 'killed',
    Service: { Service: 'Killed', Failover: { Datacenters: ['dc1'] } },
  });
  const watched = channel('consul:///Killed?dc=dc1,dc2');
  const queried = channel('consul:///Killed?query=killed&dc=dc1,dc2&interval=200ms');
  const loops = [callLoop(watched.client), callLoop(queried.client)] as const;
  for (const loop of loops) await movedTo(loop, 'echo-dc1', 0);
  const killedAt = Date.now();
  await dc1.stop();
  const [watchMs, queryMs] = [await movedTo(loops[0], 'echo-dc2', killedAt), await movedTo(loops[1], 'echo-dc2', killedAt)];
  for (const loop of loops) await loop.stop();
  console.log(`dc1's Consul killed: failover ${watchMs} ms (dual watch), ${queryMs} ms (prepared query)`);
  for (const loop of loops) assert.deepEqual(loop.failures, []);
  assert.deepEqual(changes(watched.events), ['none -> dc1', 'dc1 -> dc2']);
  assert.deepEqual(changes(queried.events), ['none -> dc1', 'dc1 -> dc2']);
  const away = queried.events.find((event) => event.type === 'datacenter' && event.to === 'dc2');
  assert.equal(away?.type === 'datacenter' && away.reason, 'dc1: Consul unreachable; prepared query killed served from dc2 (Failovers: 0)');
});
