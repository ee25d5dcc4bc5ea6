import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { CallStats } from '../../services/client/call-stats.js';
import type { DockerDriver, TargetContainer } from '../docker/docker-driver.js';
import { composeScope } from '../docker/labels.js';
import { parseScenario } from '../scenario/load-scenario.js';
import { runScenario } from './runner.js';

/**
 * The runner's contract with fault handlers, against a Docker that breaks on
 * purpose: each handler registers its undo before it acts, so a fault that
 * fails halfway is rolled back as far as it got, at once.
 */
const INSTANCES = ['a', 'b', 'c'];
const stats = new CallStats();
let statsServer: Server;
let statsUrl = '';

before(async () => {
  // A client that answers /stats with every instance serving all along.
  const feed = setInterval(() => {
    for (const id of INSTANCES) stats.recordOk(`HelloService-${id}-50051`, 2);
  }, 50);
  statsServer = createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats.snapshot()));
  }).listen(0, '127.0.0.1');
  statsServer.on('close', () => clearInterval(feed));
  await once(statsServer, 'listening');
  statsUrl = `http://127.0.0.1:${(statsServer.address() as { port: number }).port}`;
});

after(() => statsServer.close());

/** Three containers on two networks; what it breaks is up to the test. */
class BreakingDocker {
  readonly calls: string[] = [];
  readonly connected = new Map<string, Set<string>>(INSTANCES.map((id) => [id, new Set(['front', 'back'])]));
  readonly paused = new Set<string>();
  readonly scope = composeScope('runner-test');

  constructor(private readonly breaks: { disconnectFrom?: string; pauseTakesThenFails?: boolean }) {}

  async targets(): Promise<TargetContainer[]> {
    return INSTANCES.map((id, index) => ({
      containerId: id,
      name: `hello-${id}`,
      role: 'hello',
      state: this.paused.has(id) ? 'paused' : 'running',
      createdAt: index,
      ip: `10.0.0.${index + 2}`,
      port: 50051,
      instanceId: `HelloService-${id}-50051`,
      networks: ['front', 'back'],
      swarmService: '',
    }));
  }

  async aliases(): Promise<Record<string, string[]>> {
    return {};
  }

  async disconnect(target: TargetContainer, network: string): Promise<void> {
    this.calls.push(`disconnect ${target.containerId} ${network}`);
    if (network === this.breaks.disconnectFrom) throw new Error(`network ${network} not found (Docker error)`);
    this.connected.get(target.containerId)?.delete(network);
  }

  async reconnect(target: TargetContainer, network: string): Promise<void> {
    this.calls.push(`reconnect ${target.containerId} ${network}`);
    this.connected.get(target.containerId)?.add(network);
  }

  async pause(target: TargetContainer): Promise<void> {
    this.calls.push(`pause ${target.containerId}`);
    this.paused.add(target.containerId);
    if (this.breaks.pauseTakesThenFails) throw new Error('context deadline exceeded (the freeze took, the answer did not come)');
  }

  async unpause(target: TargetContainer): Promise<void> {
    this.calls.push(`unpause ${target.containerId}`);
    this.paused.delete(target.containerId);
  }
}

async function run(docker: BreakingDocker, yaml: string) {
  return runScenario({
    scenario: parseScenario(yaml, 'test.yaml'),
    source: yaml,
    file: 'test.yaml',
    seed: 1,
    driver: docker as unknown as DockerDriver,
    statsUrl,
    warmupMs: 200,
    log: () => undefined,
    status: () => undefined,
  });
}

test('a disconnect that fails on the second network is rolled back at once: the container is on both networks again', async () => {
  const docker = new BreakingDocker({ disconnectFrom: 'back' });
  const yaml = 'title: t\nmethod:\n  - action: disconnect\n    at: 0s\n    duration: 3s\n    target: oldest\nsettle: 0s\n';
  const journal = await run(docker, yaml);
  assert.deepEqual(docker.calls.slice(0, 2), ['disconnect a front', 'disconnect a back']);
  assert.ok(docker.calls.includes('reconnect a front'), docker.calls.join(', '));
  assert.deepEqual([...(docker.connected.get('a') ?? [])].sort(), ['back', 'front']);
  assert.equal(journal.actions[0]?.outcome, 'failed');
  assert.match(journal.actions[0]?.detail ?? '', /network back not found/);
  assert.deepEqual(
    journal.rollbacks.map((rollback) => [rollback.description, rollback.outcome]),
    [['reconnect hello-a', 'done']],
  );
  // Rolled back when it failed, not at the fault's planned end 3 s later.
  assert.ok((journal.actions[0]?.undoneAt ?? Infinity) - (journal.actions[0]?.endedAt ?? 0) < 1_000);
});

test('a pause that took but reported an error is undone: nothing stays paused', async () => {
  const docker = new BreakingDocker({ pauseTakesThenFails: true });
  const yaml = 'title: t\nmethod:\n  - action: pause\n    at: 0s\n    duration: 3s\n    target: newest\nsettle: 0s\n';
  const journal = await run(docker, yaml);
  assert.deepEqual(docker.calls, ['pause c', 'unpause c']);
  assert.equal(docker.paused.size, 0);
  assert.equal(journal.actions[0]?.outcome, 'failed');
  assert.ok((journal.actions[0]?.undoneAt ?? Infinity) - (journal.actions[0]?.endedAt ?? 0) < 1_000, 'at once');
});

test('the journal keeps the scenario as read and as written, so the run can be replayed', async () => {
  const docker = new BreakingDocker({});
  const yaml = 'title: kept\nmethod:\n  - action: pause\n    at: 0s\n    duration: 300ms\nsettle: 0s\n';
  const journal = await run(docker, yaml);
  assert.equal(journal.scenario.source, yaml);
  assert.deepEqual(journal.scenario.parsed, parseScenario(yaml, 'test.yaml'));
  assert.equal(journal.scenario.parsed?.method[0]?.action, 'pause');
  assert.deepEqual(docker.calls, ['pause b', 'unpause b'], 'paused on plan, undone at its end');
  assert.equal(journal.actions[0]?.outcome, 'done');
});
