import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import type { StatsSnapshot } from '../../packages/contracts/stats.js';
import type { DockerDriver, TargetContainer } from '../docker/docker-driver.js';
import { composeScope } from '../docker/labels.js';
import { parseScenario } from '../scenario/load-scenario.js';
import { PreconditionError, runScenario } from './runner.js';

/**
 * The runner's contract with fault handlers, against a Docker that breaks on
 * purpose: each handler registers its undo before it acts, so a fault that
 * fails halfway is rolled back as far as it got, at once; and a fault counts
 * only once Docker reads back that it happened.
 */
const INSTANCES = ['a', 'b', 'c'];
let statsServer: Server;
let statsUrl = '';

/** A client's /stats (the contract's document) in which every instance has answered `calls` times, the last just now. */
function servingAll(calls: number): StatsSnapshot {
  const now = Date.now();
  const ids = INSTANCES.map((id) => `HelloService-${id}-50051`);
  const each = <T>(value: T): Record<string, T> => Object.fromEntries(ids.map((id) => [id, value]));
  return {
    ok: calls * ids.length,
    failed: 0,
    wrong: 0,
    total: calls * ids.length,
    failedByCode: {},
    recovered: 0,
    byInstance: each(calls),
    firstOkAtByInstance: each(now - calls * 50),
    lastOkAtByInstance: each(now),
    forgotten: { instances: 0, ok: 0 },
    resolvedInstances: ids.map((id) => `${id}@127.0.0.1:50051`),
    datacenterByInstance: {},
    byDatacenter: {},
    servedBy: [],
    resolverErrors: 0,
    latencyMs: { p50: 2, p99: 2, max: 2 },
    latencyCounts: {},
    startedAt: new Date(now - calls * 50).toISOString(),
    uptimeMs: calls * 50,
  };
}

before(async () => {
  // A client that answers /stats with every instance serving all along: 20 calls a second each.
  const started = Date.now();
  statsServer = createServer((_, response) => {
    const stats = servingAll(Math.floor((Date.now() - started) / 50));
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
  }).listen(0, '127.0.0.1');
  await once(statsServer, 'listening');
  statsUrl = `http://127.0.0.1:${(statsServer.address() as { port: number }).port}`;
});

after(() => statsServer.close());

/** Three containers on two networks; what it breaks is up to the test. */
class BreakingDocker {
  readonly calls: string[] = [];
  readonly connected = new Map<string, Set<string>>(INSTANCES.map((id) => [id, new Set(['front', 'back'])]));
  readonly paused = new Set<string>();
  readonly exited = new Set<string>();
  readonly scope = composeScope('runner-test');

  constructor(private readonly breaks: { disconnectFrom?: string; pauseTakesThenFails?: boolean; killIgnored?: boolean }) {}

  async targets(role?: string): Promise<TargetContainer[]> {
    return role === 'consul' ? [] : INSTANCES.map((id) => this.container(id));
  }

  /** As Docker would read it back now. */
  async describe(id: string): Promise<TargetContainer> {
    return this.container(id);
  }

  private container(id: string): TargetContainer {
    const index = INSTANCES.indexOf(id);
    const state = this.paused.has(id) ? 'paused' : this.exited.has(id) ? 'exited' : 'running';
    return {
      containerId: id,
      name: `hello-${id}`,
      role: 'hello',
      state,
      createdAt: index,
      startedAt: index,
      ip: `10.0.0.${index + 2}`,
      port: 50051,
      instanceId: `HelloService-${id}-50051`,
      networks: ['front', 'back'].filter((network) => this.connected.get(id)?.has(network)),
      swarmService: '',
      datacenter: '',
    };
  }

  async kill(target: TargetContainer, signal: string): Promise<void> {
    this.calls.push(`kill ${target.containerId} ${signal}`);
    // A signal the process ignores: Docker answers 204, the container runs on.
    if (!this.breaks.killIgnored) this.exited.add(target.containerId);
  }

  async start(target: TargetContainer): Promise<void> {
    this.calls.push(`start ${target.containerId}`);
    this.exited.delete(target.containerId);
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
    proofWithinMs: 300,
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
  // The counters held, but the fault did not happen: not a run that held.
  assert.equal(journal.verdict, 'unproven');
  assert.match(
    journal.verdictReason ?? '',
    /^fault #1 disconnect oldest instance from its network for 3000 ms did not apply: network back not found \(Docker error\)$/,
  );
  assert.deepEqual(journal.actions[0]?.undone, { at: journal.actions[0]?.undone?.at, observed: 'hello-a on front, back', ok: true });
});

test('a pause that took but reported an error is undone: nothing stays paused', async () => {
  const docker = new BreakingDocker({ pauseTakesThenFails: true });
  const yaml = 'title: t\nmethod:\n  - action: pause\n    at: 0s\n    duration: 3s\n    target: newest\nsettle: 0s\n';
  const journal = await run(docker, yaml);
  assert.deepEqual(docker.calls, ['pause c', 'unpause c']);
  assert.equal(docker.paused.size, 0);
  assert.equal(journal.actions[0]?.outcome, 'failed');
  assert.ok((journal.actions[0]?.undoneAt ?? Infinity) - (journal.actions[0]?.endedAt ?? 0) < 1_000, 'at once');
  assert.equal(journal.verdict, 'unproven');
  assert.deepEqual([journal.actions[0]?.undone?.observed, journal.actions[0]?.undone?.ok], ['hello-c running', true]);
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

test('a clean run records each fault applied and undone, with what Docker read back, and holds', async () => {
  const docker = new BreakingDocker({});
  const yaml =
    'title: t\nmethod:\n  - action: pause\n    at: 0s\n    duration: 300ms\n  - action: kill\n    at: 500ms\n    target: oldest\nsettle: 0s\n';
  const journal = await run(docker, yaml);
  const [pause, kill] = journal.actions;
  assert.deepEqual(
    [pause?.applied?.observed, pause?.applied?.ok, pause?.undone?.observed, pause?.undone?.ok],
    ['hello-b paused', true, 'hello-b running', true],
  );
  // A kill is started again when the method ends: undone, and read back running.
  assert.deepEqual(
    [kill?.applied?.observed, kill?.applied?.ok, kill?.undoable, kill?.undone?.observed, kill?.undone?.ok],
    ['hello-a exited', true, true, 'hello-a running', true],
  );
  assert.ok((pause?.applied?.at ?? 0) >= (pause?.startedAt ?? Infinity), 'read back after it was applied');
  assert.equal(journal.verdict, 'held');
  assert.equal(journal.verdictReason, '');
});

test('a kill Docker accepted but the container still runs: the step is unproven, named with what was read back', async () => {
  const docker = new BreakingDocker({ killIgnored: true });
  const journal = await run(
    docker,
    'title: t\nmethod:\n  - action: kill\n    at: 0s\n    target: newest\n    signal: SIGTERM\nsettle: 0s\n',
  );
  const [kill] = journal.actions;
  assert.equal(kill?.outcome, 'done', 'Docker said yes');
  assert.deepEqual([kill?.applied?.observed, kill?.applied?.ok], ['hello-c running', false]);
  assert.equal(journal.verdict, 'unproven');
  assert.equal(journal.verdictReason, 'fault #1 kill HelloService-c-50051 did not apply: read back hello-c running');
});

test('a step skipped by the blast radius is counted, not a failure; a scenario that can skip every step stops before anything', async () => {
  const docker = new BreakingDocker({});
  // Three overlapping pauses of three instances: the third would leave none untouched.
  const overlapping =
    'title: t\nmethod:\n  - action: pause\n    at: 0s\n    duration: 600ms\n    times: 3\n    every: 100ms\nsettle: 0s\nkeepAlive: 1\n';
  const journal = await run(docker, overlapping);
  assert.deepEqual(
    journal.actions.map((action) => action.outcome),
    ['done', 'done', 'skipped'],
  );
  assert.match(journal.actions[2]?.detail ?? '', /^blast radius: /);
  assert.equal(journal.verdict, 'held');
  assert.equal(journal.verdictReason, '1 of 3 faults skipped by the blast-radius rule');

  const untouched = new BreakingDocker({});
  await assert.rejects(
    run(untouched, overlapping.replace('keepAlive: 1', 'keepAlive: 3')),
    (error: Error) =>
      error instanceof PreconditionError &&
      error.message === 'pause needs more running hello instances than keepAlive (3) leaves untouched; this stack has 3',
  );
  assert.deepEqual(untouched.calls, [], 'nothing changed');
});
