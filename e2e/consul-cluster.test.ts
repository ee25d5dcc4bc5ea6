import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConsulHttp } from '@grpc-consul-lab/consul-discovery';
import type { Journal } from '../chaos/engine/journal.js';
import { statsWhen } from './support/client-stats.js';
import { ComposeStack, newProjectName } from './support/compose-stack.js';
import { findLeftovers, sweep } from './support/docker-sweep.js';
import { assertFaultsProven } from './support/fault-proof.js';
import { deltaOf, say } from './support/judge.js';
import { ROOT } from './support/paths.js';

/**
 * PROFILE=ha, as `make up PROFILE=ha` runs it: three Consul servers with
 * Raft. The leader is SIGKILLed; later two of the three are stopped for 20 s
 * (no quorum, no leader). The client, at 200 calls/s, must not lose a call,
 * and afterwards every instance must be registered exactly once: the copies
 * left on an agent that died are removed when it returns.
 */
const project = newProjectName('ha');
let stack: ComposeStack;

before(async () => {
  process.once('SIGINT', () => void sweep(project).finally(() => process.exit(130)));
  stack = await ComposeStack.start(project, { profile: 'ha', env: { CALL_RATE: '200' } });
  await statsWhen(stack.statsUrl, '3 instances resolved', (stats) => stats.resolvedInstances.length === 3, 30_000);
});

after(async () => {
  await stack?.down();
  assert.deepEqual(await findLeftovers(project), { containers: [], networks: [], volumes: [], images: [] });
});

/**
 * What the servers said the Raft leader was, every half second while `during`
 * runs: each server asked at its current host port (a restarted server is
 * published on a new one); "" when those that answer know no leader.
 */
async function watchLeader<T>(during: () => Promise<T>): Promise<{ result: T; leaders: string[] }> {
  const leaders: string[] = [];
  let running = true;
  const sampling = (async () => {
    while (running) {
      const answers: string[] = [];
      for (const url of await stack.consulUrls().catch(() => [])) {
        const server = new ConsulHttp({ address: url, tls: { caFile: `${ROOT}/.secrets/ca.pem` }, requestTimeoutMs: 1_000, env: {} });
        await server
          .leader()
          .then((leader) => answers.push(leader))
          .catch(() => undefined)
          .finally(() => server.close());
      }
      leaders.push(answers.length === 0 ? 'unreachable' : (answers.find((leader) => leader !== '') ?? ''));
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();
  try {
    return { result: await during(), leaders };
  } finally {
    running = false;
    await sampling;
  }
}

/** Every copy Consul's catalog holds of each instance: "<node> <address:port> <status>". */
async function catalogCopies(): Promise<Map<string, string[]>> {
  // Asked afresh: restarted servers are published on new host ports.
  const management = await stack.consulApi('management');
  const { instances } = await management.healthService({ service: 'HelloService', passingOnly: false }).finally(() => management.close());
  const byId = new Map<string, string[]>();
  for (const instance of instances)
    byId.set(instance.id, [...(byId.get(instance.id) ?? []), `${instance.node} ${instance.address}:${instance.port} ${instance.status}`]);
  return byId;
}

/**
 * After the faults: each live instance is served, and every copy Consul
 * holds of it names its one address, so nothing stale is ever called. A copy
 * left on an agent that was away may still be listed for a while (measured
 * in full runs: passing for a heartbeat or two until the registrar removes
 * it, or critical for over a minute when only that agent's anti-entropy or
 * Consul's reaping after deregister_critical_service_after can remove it);
 * the client de-duplicates by id@address:port, so it is one endpoint.
 */
async function assertRegisteredOnce(name: string, journal: Journal): Promise<void> {
  const live = (await stack.driver.targets('hello')).map((target) => target.instanceId).sort();
  const now = await catalogCopies();
  assert.deepEqual([...now.keys()].sort(), live, say(name, 'Consul holds the live instances', deltaOf(journal)));
  for (const [id, copies] of now) {
    assert.ok(
      copies.some((copy) => copy.endsWith(' passing')),
      say(name, `${id} is served`, deltaOf(journal), copies),
    );
    const addresses = new Set(copies.map((copy) => copy.split(' ')[1]));
    assert.equal(addresses.size, 1, say(name, `every copy of ${id} names one address`, deltaOf(journal), copies));
  }
}

test('the Consul leader SIGKILLed: a new leader, 0 failed and 0 wrong calls at 200 calls/s, each instance served at its one address afterwards', async (t) => {
  const { result: journal, leaders } = await watchLeader(() => stack.runShippedScenario('kill-consul-leader', 1));
  const delta = deltaOf(journal);
  const distinct = [...new Set(leaders.filter((leader) => leader.endsWith(':8300')))];
  t.diagnostic(
    `kill-consul-leader: calls ${delta.calls}, failed ${delta.failed}, wrong ${delta.wrong}; leaders seen ${distinct.join(' -> ')}`,
  );
  assert.equal(journal.status, 'completed');
  assert.equal(journal.actions[0]?.outcome, 'done', say('kill-consul-leader', 'the leader was killed', delta, journal.actions[0]?.detail));
  // Read back: the killed server exited, and ran again once undone.
  assertFaultsProven(journal, { name: 'kill-consul-leader' });
  assert.equal(delta.failed, 0, say('kill-consul-leader', 'failed calls', delta));
  assert.equal(delta.wrong, 0, say('kill-consul-leader', 'wrong results', delta));
  assert.ok(delta.calls > 200 * 20, say('kill-consul-leader', 'calls flowed', delta));
  assert.ok(distinct.length >= 2, `another server became the leader: ${leaders.join(', ')}`);
  assert.deepEqual(
    journal.probes.filter((probe) => !probe.ok),
    [],
  );
  await assertRegisteredOnce('kill-consul-leader', journal);
});

test('20 s without a quorum (2 of 3 servers stopped): no leader meanwhile, 0 failed and 0 wrong calls, each instance served at its one address afterwards', async (t) => {
  const { result: journal, leaders } = await watchLeader(() => stack.runShippedScenario('consul-quorum-loss', 1));
  const delta = deltaOf(journal);
  const leaderless = leaders.filter((leader) => leader === '').length;
  t.diagnostic(
    `consul-quorum-loss: calls ${delta.calls}, failed ${delta.failed}, wrong ${delta.wrong}; ${leaderless} of ${leaders.length} leader readings empty`,
  );
  assert.equal(journal.status, 'completed');
  assert.equal(journal.actions[0]?.outcome, 'done', say('consul-quorum-loss', 'two servers stopped', delta, journal.actions[0]?.detail));
  // Read back: both servers exited, and ran again once undone.
  assertFaultsProven(journal, { name: 'consul-quorum-loss' });
  assert.ok(leaderless >= 10, `no leader for a while (at least 5 s of readings): ${leaders.join(', ')}`);
  assert.equal(delta.failed, 0, say('consul-quorum-loss', 'failed calls', delta));
  assert.equal(delta.wrong, 0, say('consul-quorum-loss', 'wrong results', delta));
  assert.ok(delta.calls > 200 * 25, say('consul-quorum-loss', 'calls flowed', delta));
  assert.deepEqual(
    journal.probes.filter((probe) => !probe.ok),
    [],
  );
  await assertRegisteredOnce('consul-quorum-loss', journal);
});
