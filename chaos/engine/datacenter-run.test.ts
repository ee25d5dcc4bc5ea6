import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import type { StatsSnapshot } from '../../packages/contracts/stats.js';
import { DockerDriver } from '../docker/docker-driver.js';
import { composeScope } from '../docker/labels.js';
import { parseScenario } from '../scenario/load-scenario.js';
import { FakeEngine } from '../test-support/fake-engine.js';
import { runScenario } from './runner.js';

/**
 * A run of partition-datacenter through the real runner and driver, on an
 * engine in memory, against a client of two datacenters that prefers dc1:
 * the client's served-by switches become the fault's time to fail over and
 * to fail back in the journal and the run's lines; and dc2's instances,
 * idle in reserve while dc1 serves, are not held against the hypothesis.
 */
const DC1 = ['hello-1', 'hello-2'];
const DC2 = ['hello-dc2-1', 'hello-dc2-2'];
const engine = new FakeEngine();
const labels = (datacenter: string, role: string): Record<string, string> => ({
  'grpc-consul-lab.chaos-target': 'true',
  'com.docker.compose.project': 'lab',
  'grpc-consul-lab.role': role,
  'grpc-consul-lab.datacenter': datacenter,
});
engine.add('consul', labels('dc1', 'consul'));
for (const id of DC1) engine.add(id, labels('dc1', 'hello'));
engine.add('consul-dc2', labels('dc2', 'consul'));
for (const id of DC2) engine.add(id, labels('dc2', 'hello'));

const instanceId = (container: string): string => `HelloService-${container}-50051`;
let statsServer: Server;
let statsUrl = '';

/** The client: 100 calls a second to dc1 while every container of it takes packets, else to dc2; a switch each time that changes. */
function clientOf(): () => StatsSnapshot {
  const started = Date.now();
  const servedBy: { datacenter: string; at: number }[] = [];
  const byInstance: Record<string, number> = {};
  const lastOk: Record<string, number> = {};
  let last = started;
  let ok = 0;
  return () => {
    const now = Date.now();
    const dc1Up = ['consul', ...DC1].every((id) => !engine.get(id).dropping && engine.get(id).running);
    const datacenter = dc1Up ? 'dc1' : 'dc2';
    if (servedBy.at(-1)?.datacenter !== datacenter) servedBy.push({ datacenter, at: now });
    const serving = dc1Up ? DC1 : DC2;
    for (const id of serving.map(instanceId)) {
      const calls = Math.round((now - last) / 20);
      byInstance[id] = (byInstance[id] ?? 0) + calls;
      lastOk[id] = now;
      ok += calls;
    }
    last = now;
    const all = [...DC1, ...DC2].map(instanceId);
    return {
      ok,
      failed: 0,
      wrong: 0,
      total: ok,
      failedByCode: {},
      recovered: 0,
      byInstance: { ...byInstance },
      firstOkAtByInstance: Object.fromEntries(Object.keys(byInstance).map((id) => [id, started])),
      lastOkAtByInstance: { ...lastOk },
      forgotten: { instances: 0, ok: 0 },
      resolvedInstances: all.map((id) => `${id}@10.0.0.1:50051`),
      datacenterByInstance: Object.fromEntries(all.map((id) => [id, DC1.map(instanceId).includes(id) ? 'dc1' : 'dc2'])),
      byDatacenter: {},
      servedBy: [...servedBy],
      resolverErrors: 0,
      latencyMs: { p50: 2, p99: 2, max: 2 },
      latencyCounts: {},
      startedAt: new Date(started).toISOString(),
      uptimeMs: now - started,
    };
  };
}

before(async () => {
  const client = clientOf();
  statsServer = createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(client()));
  }).listen(0, '127.0.0.1');
  await once(statsServer, 'listening');
  statsUrl = `http://127.0.0.1:${(statsServer.address() as { port: number }).port}`;
});

after(() => statsServer.close());

test('partition-datacenter: the journal and the lines carry the time to fail over and to fail back; dc2 idle in reserve is no finding', async () => {
  const yaml = 'title: t\nmethod:\n  - action: partition-datacenter\n    at: 1s\n    duration: 2s\nsettle: 2s\nkeepAlive: 1\n';
  const lines: string[] = [];
  const journal = await runScenario({
    scenario: parseScenario(yaml, 'test.yaml'),
    file: 'test.yaml',
    seed: 1,
    driver: new DockerDriver(composeScope('lab'), engine.docker(), 'netfault:test'),
    statsUrl,
    warmupMs: 200,
    proofWithinMs: 500,
    log: (line) => lines.push(line),
    status: () => undefined,
  });
  assert.equal(journal.verdict, 'held', `${journal.verdictReason}\n${lines.join('\n')}`);
  const action = journal.actions[0];
  assert.equal(action?.datacenter, 'dc1');
  const failover = action?.failover;
  assert.equal(failover?.servedByAtFault, 'dc1');
  assert.equal(failover?.failedOver?.to, 'dc2');
  // The client is read once a second: each switch shows at the first reading after it.
  const overMs = failover?.failedOver?.afterMs ?? -1;
  const backMs = failover?.failedBack?.afterMs ?? -1;
  assert.ok(overMs >= 0 && overMs <= 1_500, `failed over after ${overMs} ms`);
  assert.ok(backMs >= 0 && backMs <= 1_500, `failed back after ${backMs} ms`);
  assert.deepEqual(
    journal.servedBy?.map((entry) => entry.datacenter),
    ['dc1', 'dc2', 'dc1'],
  );
  const line = lines.find((text) => text.startsWith('fault #1 partition datacenter dc1') && text.includes('failed over'));
  assert.match(
    line ?? lines.join('\n'),
    /: failed over from dc1 to dc2 \d\.\d s after the fault began; failed back to dc1 \d\.\d s after the undo$/,
  );
  assert.deepEqual(
    journal.probes.filter((probe) => probe.probe === 'every-live-instance-served').map((probe) => [probe.phase, probe.value]),
    [
      ['before', '2 of 2'],
      ['after', '2 of 2'],
    ],
    "dc1's two instances, not dc2's in reserve",
  );
});
