import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { ConsulHttp } from '@grpc-consul-lab/consul-discovery';
import { ConsulDevAgent, freePort } from '@grpc-consul-lab/consul-discovery/testing';
import { faultKey } from '../packages/contracts/gray-fault.js';
import { HelloProcess } from './local/hello-process.js';
import { eventually } from '../packages/testing/eventually.js';
import { type InProcessClient, startClient } from './client/in-process-client.js';
import { shareOf, shareOver } from '../packages/testing/call-share.js';
import { test } from '../packages/testing/timed-test.js';

/**
 * A gray fault and its end at a modest rate (25 calls/s, as a demo runs):
 * weighted round robin weighs an instance by the load it reports, and an
 * instance that gets few calls reports little, so a penalised one must still
 * win its share back once it answers well (its weight lapses and it is
 * probed). Found in an e2e run at 50 calls/s: a formerly flaky instance got
 * no call for over a minute.
 */
const RATE = 25;
let consul: ConsulDevAgent;
let client: InProcessClient;
const servers: HelloProcess[] = [];

before(async () => {
  consul = await ConsulDevAgent.start();
  for (let i = 0; i < 3; i += 1) {
    servers.push(HelloProcess.start({ port: await freePort(), consulAddress: consul.address, env: { GRPC_CHECK_INTERVAL_MS: '1000' } }));
  }
  client = startClient({ consulAddress: consul.address, ratePerSecond: RATE });
  assert.ok(await eventually(() => client.stats.snapshot().resolvedInstances.length === 3, 15_000), 'three instances resolved');
});

after(async () => {
  await client?.stop();
  await Promise.all(servers.map((server) => server.dispose()));
  await consul?.stop();
});

test('a flaky instance (50 % UNAVAILABLE) is ejected while callers see 0 failures, and is called again once it answers well', async () => {
  const kv = new ConsulHttp({ address: consul.address });
  const flaky = servers[0] as HelloProcess;
  const before = client.stats.snapshot();
  await kv.kvPut(faultKey(flaky.instanceId), JSON.stringify({ kind: 'flaky', ratio: 0.5, code: 'UNAVAILABLE' }));
  let cleared = false;
  try {
    // Outlier detection (every 2 s) ejects it: once 2 s of calls pass it by, its share is measured over the 4 s after.
    const passedBy = await eventually(async () => (await shareOver(client.stats, flaky.instanceId, 2_000)) < 0.1, 20_000, 0);
    assert.ok(passedBy, 'the flaky instance lost its share of calls');
    const ejected = client.stats.snapshot();
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const share = shareOf(flaky.instanceId, ejected, client.stats.snapshot());
    assert.ok(share < 0.1, `its share of calls over the 4 s after: ${(share * 100).toFixed(1)} % (round robin: 33 %)`);
    await kv.kvDelete(faultKey(flaky.instanceId));
    cleared = true;
    const callsAtClear = client.stats.snapshot().byInstance[flaky.instanceId] ?? 0;
    // Outlier detection's ejection (at most 30 s) and the penalised weight's lapse (10 s): a generous safety net.
    assert.ok(
      await eventually(() => (client.stats.snapshot().byInstance[flaky.instanceId] ?? 0) > callsAtClear + 20, 45_000, 100),
      `called again after the fault was cleared (${(client.stats.snapshot().byInstance[flaky.instanceId] ?? 0) - callsAtClear} calls since)`,
    );
    const end = client.stats.snapshot();
    assert.equal(end.failed - before.failed, 0, JSON.stringify(end.failedByCode));
    assert.equal(end.wrong - before.wrong, 0);
  } finally {
    if (!cleared) await kv.kvDelete(faultKey(flaky.instanceId));
    kv.close();
  }
});
