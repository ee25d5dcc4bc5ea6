import assert from 'node:assert/strict';
import { after, before, type TestContext, test } from 'node:test';
import Docker from 'dockerode';
import { GenericContainer, type StartedTestContainer } from 'testcontainers';
import { RefusedTargetError } from '../chaos/docker/docker-driver.js';
import { E2E_RUN_LABEL, ROLE_LABEL } from '../chaos/docker/labels.js';
import type { Journal } from '../chaos/engine/journal.js';
import { registrationsOf } from '../chaos/engine/consul-view.js';
import { runScenario } from '../chaos/engine/runner.js';
import { faultFigures } from '../chaos/report/fault-figures.js';
import { type Scenario, scenarioSchema } from '../chaos/scenario/schema.js';
import { statsWhen } from './support/client-stats.js';
import { sweep } from './support/docker-sweep.js';
import { deltaOf, say } from './support/judge.js';
import { type BuiltImages, buildImages, LabCluster, newRunId } from './support/lab-cluster.js';

/**
 * Every fault of the chaos runner against real containers built from our
 * Dockerfiles, judged by the client's own counters. Each scenario gets a
 * fresh cluster, plus a decoy container that is not a chaos target and must
 * come through untouched.
 */
const imagesRunId = newRunId('images');
let images: BuiltImages;
const docker = new Docker();
const liveRuns = new Set<string>();

const onInterrupt = (): void => {
  void Promise.all([...liveRuns, imagesRunId].map((runId) => sweep(runId))).finally(() => process.exit(130));
};

before(async () => {
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  images = await buildImages(imagesRunId);
});

after(async () => {
  for (const runId of liveRuns) await sweep(runId);
  await sweep(imagesRunId);
  process.removeListener('SIGINT', onInterrupt);
  process.removeListener('SIGTERM', onInterrupt);
});

/** One line per scenario for the suite's output: calls, failed, wrong, recovery. */
function summarise(name: string, journal: Journal): string {
  const delta = deltaOf(journal);
  const figures = faultFigures(journal);
  const seconds = (values: (number | undefined)[]): string => {
    const known = values.filter((value): value is number => value !== undefined);
    return known.length === 0 ? '-' : `${(Math.max(...known) / 1_000).toFixed(1)} s`;
  };
  return `${name}: calls ${delta.calls}, failed ${delta.failed}, wrong ${delta.wrong}, last failure after ${seconds(figures.map((f) => f.lastFailureAfterMs))}, replacements' first call after ${seconds(figures.map((f) => f.replacementFirstCallAfterMs))}`;
}

interface Case {
  readonly cluster: LabCluster;
  readonly journal: Journal;
  readonly log: string[];
}

async function startDecoy(cluster: LabCluster): Promise<StartedTestContainer> {
  // Looks like a hello instance and lives in the run, but lacks the chaos-target label.
  return new GenericContainer(images.hello)
    .withName(`${cluster.runId}-decoy`)
    .withEntrypoint(['sleep', 'infinity'])
    .withLabels({ [ROLE_LABEL]: 'hello', [E2E_RUN_LABEL]: cluster.runId })
    .withNetwork(cluster.network)
    .start();
}

async function withScenario(context: TestContext, name: string, input: unknown, judge: (run: Case) => Promise<void> | void): Promise<void> {
  const scenario: Scenario = scenarioSchema.parse(input);
  const runId = newRunId(name);
  liveRuns.add(runId);
  let cluster: LabCluster | undefined;
  const log: string[] = [];
  try {
    cluster = await LabCluster.start(runId, images);
    const decoy = await startDecoy(cluster);
    const decoyStartedAt = (await docker.getContainer(decoy.getId()).inspect()).State.StartedAt;
    const ready = await statsWhen(cluster.statsUrl, (stats) => Object.keys(stats.byInstance).length >= 3, 30_000);
    assert.equal(
      Object.keys(ready.byInstance).length,
      3,
      `[${name}] the client reached 3 instances before the faults: ${JSON.stringify(ready.byInstance)}`,
    );

    const journal = await runScenario({
      scenario,
      file: `${name} (e2e)`,
      seed: 1,
      driver: cluster.driver,
      statsUrl: cluster.statsUrl,
      consulUrl: await cluster.consulUrl(),
      log: (line) => log.push(line),
      status: () => undefined,
    });
    assert.equal(journal.status, 'completed', `[${name}] run status; log:\n${log.join('\n')}`);
    await judge({ cluster, journal, log });
    context.diagnostic(summarise(name, journal));

    const decoyState = (await docker.getContainer(decoy.getId()).inspect()).State;
    assert.ok(
      decoyState.Running && !decoyState.Paused && decoyState.StartedAt === decoyStartedAt,
      `[${name}] the decoy was touched: ${JSON.stringify(decoyState)}`,
    );
    await assert.rejects(cluster.driver.describe(decoy.getId()), RefusedTargetError, `[${name}] the driver refuses the decoy even by id`);
    const targets = await cluster.driver.targets('hello');
    assert.ok(
      targets.every((target) => target.state === 'running'),
      `[${name}] nothing left paused or stopped: ${JSON.stringify(targets.map((t) => [t.name, t.state]))}`,
    );
  } catch (error) {
    if (cluster && error instanceof Error)
      error.message += `\n[${name}] runner log:\n${log.join('\n')}\n[${name}] container logs saved in ${await cluster.saveLogs(name)}`;
    throw error;
  } finally {
    await sweep(runId);
    liveRuns.delete(runId);
  }
}

test('rolling SIGKILL with replacement on a new port for 60 s: 0 failed, 0 wrong, every replacement served', async (t) => {
  await withScenario(
    t,
    'rolling-kill',
    {
      title: 'rolling kill 60 s',
      method: [{ action: 'replace', how: 'kill', signal: 'SIGKILL', at: '3s', every: '5s', times: 12, jitter: '1s' }],
      settle: '8s',
    },
    async ({ journal }) => {
      const delta = deltaOf(journal);
      assert.equal(delta.failed, 0, say('rolling-kill', 'failed calls', delta));
      assert.equal(delta.wrong, 0, say('rolling-kill', 'wrong results', delta));
      assert.equal(
        journal.actions.filter((a) => a.outcome === 'done').length,
        12,
        say(
          'rolling-kill',
          'replacements done',
          delta,
          journal.actions.map((a) => a.detail),
        ),
      );
      const final = journal.samples.at(-1);
      const unserved = journal.actions.flatMap((a) => a.newInstances).filter((id) => final?.firstOkAtByInstance[id] === undefined);
      assert.deepEqual(unserved, [], say('rolling-kill', 'every replacement served a call', delta));
      assert.ok(
        !journal.deviated,
        say(
          'rolling-kill',
          'hypothesis',
          delta,
          journal.probes.filter((p) => !p.ok),
        ),
      );
    },
  );
});

test('graceful stop of one instance: 0 failed', async (t) => {
  await withScenario(
    t,
    'graceful-stop',
    { title: 'graceful stop', method: [{ action: 'stop', at: '2s', timeout: '10s' }], settle: '8s' },
    ({ journal }) => {
      const delta = deltaOf(journal);
      assert.equal(delta.failed, 0, say('graceful-stop', 'failed calls', delta));
      assert.equal(delta.wrong, 0, say('graceful-stop', 'wrong results', delta));
      assert.ok(delta.ok > 300, say('graceful-stop', 'calls flowed', delta));
    },
  );
});

test('freeze (pause) of one instance for 20 s: 0 failed', async (t) => {
  await withScenario(
    t,
    'freeze',
    { title: 'freeze 20 s', method: [{ action: 'pause', at: '2s', duration: '20s' }], settle: '8s' },
    ({ journal }) => {
      const delta = deltaOf(journal);
      assert.equal(delta.failed, 0, say('freeze', 'failed calls', delta));
      assert.equal(delta.wrong, 0, say('freeze', 'wrong results', delta));
      assert.equal(journal.rollbacks.length, 1, say('freeze', 'unpaused', delta, journal.rollbacks));
    },
  );
});

test('Consul restarted: 0 failed while it is down, every instance registered again afterwards', async (t) => {
  await withScenario(
    t,
    'consul-restart',
    { title: 'consul restart', method: [{ action: 'restart-consul', at: '2s', downtime: '4s' }], settle: '10s' },
    async ({ journal, cluster }) => {
      const delta = deltaOf(journal);
      assert.equal(delta.failed, 0, say('consul-restart', 'failed calls', delta));
      assert.equal(delta.wrong, 0, say('consul-restart', 'wrong results', delta));
      const live = (await cluster.driver.targets('hello')).map((target) => target.instanceId).sort();
      assert.deepEqual(await cluster.passingInstanceIds(), live, say('consul-restart', 'every instance registered again', delta));
    },
  );
});

test('seed parity: all stopped and back on new ports: 0 wrong, failures only while no instance was up, calls succeed again', async (t) => {
  await withScenario(
    t,
    'seed-parity',
    {
      title: 'seed parity',
      hypothesis: { successRatioAtLeast: 0.5 },
      method: [{ action: 'replace-all', at: '2s', every: '15s', times: 2, downtime: '2s', portStep: 5 }],
      settle: '8s',
      keepAlive: 0,
    },
    ({ journal }) => {
      const delta = deltaOf(journal);
      assert.equal(delta.wrong, 0, say('seed-parity', 'wrong results', delta));
      // A failure may only be seen in a sample taken while, or just after, every instance was down.
      const windows = journal.actions.map((a) => [a.startedAt, a.endedAt + 1_500] as const);
      const outside = journal.samples.filter((sample, i) => {
        const previous = journal.samples[i - 1];
        return previous && sample.failed > previous.failed && !windows.some(([from, to]) => sample.t >= from && previous.t <= to);
      });
      assert.deepEqual(
        outside.map((s) => s.t),
        [],
        say('seed-parity', 'failures outside the all-down windows', delta),
      );
      const lastEnd = Math.max(...journal.actions.map((a) => a.endedAt));
      const atLastEnd = journal.samples.find((s) => s.t >= lastEnd);
      const final = journal.samples.at(-1);
      assert.ok(
        atLastEnd && final && final.ok > atLastEnd.ok + 100,
        say('seed-parity', 'calls succeed again after the last restart', delta),
      );
      const unserved = journal.actions.flatMap((a) => a.newInstances).filter((id) => final?.firstOkAtByInstance[id] === undefined);
      assert.deepEqual(unserved, [], say('seed-parity', 'every new instance served', delta));
    },
  );
});

/** The first sample after `from` in which `instanceId` answered more calls than before it, or undefined. */
function firstServedAfter(journal: Journal, instanceId: string, from: number): number | undefined {
  const before = [...journal.samples].reverse().find((sample) => sample.t <= from)?.byInstance[instanceId] ?? 0;
  return journal.samples.find((sample) => sample.t > from && (sample.byInstance[instanceId] ?? 0) > before)?.t;
}

// Server heartbeat (TTL/4 of 20 s), plus the 1 s between the runner's samples.
const HEARTBEAT_MS = 5_000;
const SAMPLE_SLACK_MS = 1_000;

test('a partition of one instance (every packet dropped): 0 failed, 0 wrong, the victim gets nothing, then is served within a heartbeat', async (t) => {
  await withScenario(
    t,
    'partition',
    { title: 'partition', method: [{ action: 'partition', at: '2s', duration: '15s' }], settle: '8s' },
    ({ journal }) => {
      const delta = deltaOf(journal);
      assert.equal(delta.failed, 0, say('partition', 'failed calls', delta));
      assert.equal(delta.wrong, 0, say('partition', 'wrong results', delta));
      const [action] = journal.actions;
      const victim = action?.targets[0] ?? '';
      // Give keepalive and Consul's check 5 s to notice, then the victim must get nothing while others do.
      const from = journal.samples.find((s) => s.t >= (action?.startedAt ?? 0) + 5_000);
      const to = [...journal.samples].reverse().find((s) => s.t <= (action?.undoneAt ?? 0));
      assert.ok(from && to && to.t > from.t, say('partition', 'samples inside the partition', delta));
      const victimCalls = (to.byInstance[victim] ?? 0) - (from.byInstance[victim] ?? 0);
      const totalCalls = to.ok - from.ok;
      assert.equal(victimCalls, 0, say('partition', `calls to the partitioned ${victim}`, delta));
      assert.ok(totalCalls > 200, say('partition', 'traffic went on through the others', delta, { totalCalls }));
      const healedAt = action?.undoneAt ?? 0;
      const servedAt = firstServedAfter(journal, victim, healedAt);
      t.diagnostic(`partition: victim served again ${servedAt === undefined ? 'never' : `${servedAt - healedAt} ms`} after the heal`);
      assert.ok(
        servedAt !== undefined && servedAt - healedAt <= HEARTBEAT_MS + SAMPLE_SLACK_MS,
        say(
          'partition',
          `the victim served again within a heartbeat of the heal (after ${servedAt === undefined ? 'never' : servedAt - healedAt} ms)`,
          delta,
        ),
      );
    },
  );
});

test("a disconnect while a replacement takes the victim's address and port: the victim moves its registration and is served again", async (t) => {
  await withScenario(
    t,
    'disconnect-readdressed',
    {
      title: 'disconnect, and a replacement on the same port takes the freed address',
      method: [
        { action: 'disconnect', target: 'oldest', at: '2s', duration: '12s' },
        { action: 'replace', target: 'newest', how: 'kill', portStep: 0, at: '5s' },
      ],
      settle: '10s',
    },
    async ({ journal, cluster }) => {
      const delta = deltaOf(journal);
      const [disconnect, replace] = journal.actions;
      const victim = disconnect?.targets[0] ?? '';
      // The details name each container's address as (ip:port): the victim's, then the replaced one's and its replacement's.
      const addressesIn = (detail = ''): string[] => [...detail.matchAll(/\((\d+\.\d+\.\d+\.\d+):\d+\)/g)].map((match) => match[1] ?? '');
      const [victimOldAddress] = addressesIn(disconnect?.detail);
      // The sequence this test is about: Docker gave the freed address to the replacement.
      assert.equal(
        addressesIn(replace?.detail)[1],
        victimOldAddress,
        say(
          'disconnect-readdressed',
          "the replacement took the victim's address",
          delta,
          journal.actions.map((a) => a.detail),
        ),
      );
      assert.equal(delta.failed, 0, say('disconnect-readdressed', 'failed calls', delta));
      assert.equal(delta.wrong, 0, say('disconnect-readdressed', 'wrong results', delta));
      const reconnectedAt = disconnect?.undoneAt ?? 0;
      const servedAt = firstServedAfter(journal, victim, reconnectedAt);
      t.diagnostic(
        `disconnect-readdressed: ${victimOldAddress} taken by the replacement; victim served again ${servedAt === undefined ? 'never' : `${servedAt - reconnectedAt} ms`} after reconnecting`,
      );
      // A heartbeat to notice the new address, then Consul's first gRPC check of it (2 s).
      assert.ok(
        servedAt !== undefined && servedAt - reconnectedAt <= HEARTBEAT_MS + 2_000 + SAMPLE_SLACK_MS,
        say(
          'disconnect-readdressed',
          `the victim served again after reconnecting (after ${servedAt === undefined ? 'never' : servedAt - reconnectedAt} ms)`,
          delta,
        ),
      );
      const registrations = (await registrationsOf(await cluster.consulUrl(), 'HelloService')).get(victim) ?? [];
      const current = (await cluster.driver.targets('hello')).find((target) => target.instanceId === victim);
      assert.deepEqual(
        registrations.map((r) => `${r.address} ${r.status}`),
        [`${current?.ip} passing`],
        say('disconnect-readdressed', `Consul holds the victim at its new address only (old ${victimOldAddress})`, delta),
      );
      assert.ok(
        !journal.deviated,
        say(
          'disconnect-readdressed',
          'hypothesis',
          delta,
          journal.probes.filter((p) => !p.ok),
        ),
      );
    },
  );
});

test('scale churn 3 -> 5 -> 2 -> 3: 0 failed, new instances take traffic', async (t) => {
  await withScenario(
    t,
    'scale-churn',
    {
      title: 'scale churn',
      method: [
        { action: 'scale', to: 5, at: '2s' },
        { action: 'scale', to: 2, at: '12s' },
        { action: 'scale', to: 3, at: '20s' },
      ],
      settle: '8s',
    },
    ({ journal }) => {
      const delta = deltaOf(journal);
      assert.equal(delta.failed, 0, say('scale-churn', 'failed calls', delta));
      assert.equal(delta.wrong, 0, say('scale-churn', 'wrong results', delta));
      const final = journal.samples.at(-1);
      const started = journal.actions.flatMap((a) => a.newInstances);
      assert.equal(
        started.length,
        3,
        say(
          'scale-churn',
          'instances started',
          delta,
          journal.actions.map((a) => a.detail),
        ),
      );
      assert.deepEqual(
        started.filter((id) => final?.firstOkAtByInstance[id] === undefined),
        [],
        say('scale-churn', 'every new instance served', delta),
      );
    },
  );
});
