import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { StatsSnapshot } from '../packages/contracts/stats.js';
import { passingIds } from '../packages/testing/consul-queries.js';
import { eventually } from '../packages/testing/eventually.js';
import { ConsulDevAgent, freePort } from '@grpc-consul-lab/consul-discovery/testing';
import { ConsulHttp, instanceIdOf } from '@grpc-consul-lab/consul-discovery';
import { faultKey } from '../packages/contracts/gray-fault.js';
import { HelloProcess } from './local/hello-process.js';
import { type InProcessClient, startClient } from './client/in-process-client.js';
import { shareOf, shareOver } from '../packages/testing/call-share.js';
import { test } from '../packages/testing/timed-test.js';

/**
 * Failover as the client sees it: 3 server processes, the real client at
 * 200 calls/s, one fault at a time. Every fault must cost zero failed and
 * zero wrong calls. Every wait's limit is a safety net for a loaded machine,
 * not a measure: bench/failover.ts measures how soon.
 */
const RATE = 200;
let consul: ConsulDevAgent;
let client: InProcessClient;
const servers: HelloProcess[] = [];

async function startServer(): Promise<HelloProcess> {
  const server = HelloProcess.start({ port: await freePort(), consulAddress: consul.address, env: { GRPC_CHECK_INTERVAL_MS: '1000' } });
  servers.push(server);
  return server;
}

function live(): HelloProcess[] {
  return servers.filter((server) => !server.exited);
}

async function allPassingAndResolved(): Promise<boolean> {
  const expected = live()
    .map((server) => server.instanceId)
    .sort();
  const resolved = client.stats.snapshot().resolvedInstances.map(instanceIdOf).sort();
  return (await passingIds(consul.address)).join() === expected.join() && resolved.join() === expected.join();
}

/** Runs `fault`, lets traffic flow for `settleMs`, and returns the counters it added. */
async function duringFault(
  fault: () => Promise<void>,
  settleMs: number,
): Promise<{ calls: number; failed: number; wrong: number; detail: string }> {
  const before = client.stats.snapshot();
  await fault();
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const afterFault: StatsSnapshot = client.stats.snapshot();
  return {
    calls: afterFault.total - before.total,
    failed: afterFault.failed - before.failed,
    wrong: afterFault.wrong - before.wrong,
    detail: JSON.stringify({ failedByCode: afterFault.failedByCode, lastFailure: afterFault.lastFailure, lastWrong: afterFault.lastWrong }),
  };
}

before(async () => {
  consul = await ConsulDevAgent.start();
  for (let i = 0; i < 3; i += 1) await startServer();
  client = startClient({ consulAddress: consul.address, ratePerSecond: RATE });
  assert.ok(await eventually(allPassingAndResolved, 15_000), 'three instances passing and resolved');
});

after(async () => {
  await client?.stop();
  await Promise.all(servers.map((server) => server.dispose()));
  await consul.stop();
});

test('SIGKILL of one instance: 0 client-visible failures', async () => {
  const victim = live()[0] as HelloProcess;
  const result = await duringFault(async () => {
    victim.signal('SIGKILL');
    await victim.waitForExit();
  }, 4_000);
  assert.ok(result.calls > RATE * 3, `calls flowed: ${result.calls}`);
  assert.equal(result.failed, 0, result.detail);
  assert.equal(result.wrong, 0, result.detail);
  assert.ok(await eventually(allPassingAndResolved, 20_000), 'the dead instance left Consul and the resolver');
  await startServer();
  assert.ok(await eventually(allPassingAndResolved, 20_000));
});

test('SIGTERM of one instance (graceful drain): 0 client-visible failures', async () => {
  const victim = live()[0] as HelloProcess;
  const result = await duringFault(async () => {
    victim.signal('SIGTERM');
    assert.equal(await victim.waitForExit(), 0);
  }, 3_000);
  // The client's load-report stream (weighted round robin) is open all along: it must not hold up the drain.
  assert.doesNotMatch(victim.logs, /drain deadline passed/, 'the drain finished without cutting anything');
  assert.ok(result.calls > RATE * 2, `calls flowed: ${result.calls}`);
  assert.equal(result.failed, 0, result.detail);
  assert.equal(result.wrong, 0, result.detail);
  await startServer();
  assert.ok(await eventually(allPassingAndResolved, 20_000));
});

test('SIGSTOP of one instance for 10 s: 0 client-visible failures', async () => {
  const victim = live()[0] as HelloProcess;
  const result = await duringFault(async () => {
    victim.signal('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    victim.signal('SIGCONT');
  }, 3_000);
  assert.ok(result.calls > RATE * 10, `calls flowed: ${result.calls}`);
  assert.equal(result.failed, 0, result.detail);
  assert.equal(result.wrong, 0, result.detail);
  assert.ok(await eventually(allPassingAndResolved, 20_000), 'the thawed instance is back');
});

test('a slow instance (+300 ms) loses its share of calls to weighted round robin on its load reports: 0 failed', async () => {
  const kv = new ConsulHttp({ address: consul.address });
  const slow = live()[0] as HelloProcess;
  const before = client.stats.snapshot();
  await kv.kvPut(faultKey(slow.instanceId), JSON.stringify({ kind: 'slow', delayMs: 300, jitterMs: 0 }));
  try {
    // Weights follow the load reports (every 0.5 s): once a second's calls pass it by, its share is
    // measured over the 4 s after. (How soon it loses its share: bench/slow-instance.ts, ~2 s.)
    const lost = await eventually(async () => (await shareOver(client.stats, slow.instanceId, 1_000)) < 0.05, 20_000, 0);
    assert.ok(lost, 'the slow instance lost its share of calls');
    const adapted = client.stats.snapshot();
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const end = client.stats.snapshot();
    const share = shareOf(slow.instanceId, adapted, end);
    // Round robin would give it a third; its weight is ~1/150 of the others'.
    assert.ok(share < 0.05, `the slow instance's share of calls over the 4 s after: ${(share * 100).toFixed(1)} %`);
    assert.equal(end.failed - before.failed, 0, JSON.stringify(end.failedByCode));
    assert.equal(end.wrong - before.wrong, 0);
  } finally {
    await kv.kvDelete(faultKey(slow.instanceId));
  }
});

test('a new instance on a new port passes health and serves calls: 0 failed', async () => {
  const newcomer = await startServer();
  assert.ok(
    await eventually(async () => (await passingIds(consul.address)).includes(newcomer.instanceId), 20_000),
    'the new instance passes health',
  );
  // How soon after passing: bench/discovery.ts and bench/failover.ts ("first call ... after passing health").
  const served = await eventually(() => client.stats.snapshot().firstOkAtByInstance[newcomer.instanceId] !== undefined, 20_000);
  assert.ok(served, 'the new instance served a call');
  const stats = client.stats.snapshot();
  assert.equal(stats.failed, 0, JSON.stringify({ failedByCode: stats.failedByCode, lastFailure: stats.lastFailure }));
  assert.equal(stats.wrong, 0);
});

test('a rolling restart of every instance, each one drained (SIGTERM: NOT_SERVING, maintenance, then shutdown): 0 failed', async (t) => {
  const before = client.stats.snapshot();
  const originals = live();
  for (const old of originals) {
    const replacement = await startServer();
    assert.ok(
      await eventually(() => client.stats.snapshot().firstOkAtByInstance[replacement.instanceId] !== undefined, 20_000),
      'the replacement serves',
    );
    old.signal('SIGTERM');
    assert.equal(await old.waitForExit(), 0, old.logs);
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const after = client.stats.snapshot();
  const detail = JSON.stringify({ failedByCode: after.failedByCode, lastFailure: after.lastFailure });
  t.diagnostic(`rolling restart with drain: ${after.total - before.total} calls, ${after.failed - before.failed} failed`);
  assert.ok(after.total - before.total > RATE * 3, `calls flowed: ${after.total - before.total}`);
  assert.equal(after.failed - before.failed, 0, detail);
  assert.equal(after.wrong - before.wrong, 0, detail);
  assert.ok(
    originals.every((server) => (after.lastOkAtByInstance[server.instanceId] ?? 0) < Date.now() - 900),
    'drained instances get no calls',
  );
});
