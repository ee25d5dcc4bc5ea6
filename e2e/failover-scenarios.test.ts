import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@grpc-consul-lab/consul-discovery/testing';
import { eventually } from '../packages/testing/eventually.js';
import { after, before, describe, type TestContext } from 'node:test';
import { e2eTest as test } from '../packages/testing/timed-test.js';
import Docker from 'dockerode';
import type { StartedTestContainer } from 'testcontainers';
import { RefusedTargetError } from '../chaos/docker/docker-driver.js';
import { registrationsOf } from '../chaos/engine/consul-view.js';
import { type Journal, sampleAt } from '../chaos/engine/journal.js';
import { runScenario } from '../chaos/engine/runner.js';
import { faultFigures } from '../chaos/report/fault-figures.js';
import { type Scenario, scenarioSchema } from '../chaos/scenario/schema.js';
import { statsWhen } from './support/client-stats.js';
import { journalIn, spawnChaosCli } from './support/chaos-cli.js';
import { assertFaultsProven } from './support/fault-proof.js';
import { ComposeStack, newProjectName, type StackProfile } from './support/compose-stack.js';
import { assertHardened } from './support/hardening.js';
import { HELLO_SERVICE_NAME } from '../packages/contracts/hello.js';
import { COMPOSE_PROJECT_LABEL, DATACENTER_LABEL, ROLE_LABEL } from '../chaos/docker/labels.js';
import { openHeadless } from './support/headless-browser.js';
import { sweep } from './support/docker-sweep.js';
import { type Delta, deltaOf, say } from './support/judge.js';
import { assertStackClean } from './support/stack-clean.js';
import { describeHaStack } from './ha-stack.js';
import { type DirectCall, DirectProbe, helloCallTo } from './support/direct-calls.js';
import { inPreferredDatacenter } from '../chaos/faults/hello-targets.js';
import { ConsulError, instanceIdOf } from '@grpc-consul-lab/consul-discovery';

/**
 * Every fault of the chaos runner against the secure compose stack (the one
 * `make up` runs), judged by the client's own counters. Faults that leave the
 * stack steady share a stack, one after the other: the kills and
 * replacements on one, the network and Consul faults on another. Each stack
 * has a decoy container that is not a chaos target and must come through
 * every scenario untouched. Each scenario ends by proving the stack clean
 * (assertStackClean) inside its own test, not in an afterEach: the test that
 * left a mess is the one that fails, with its runner log and container logs.
 */
const docker = new Docker();
const liveProjects = new Set<string>();

const onInterrupt = (): void => {
  void Promise.all([...liveProjects].map((project) => sweep(project))).finally(() => process.exit(130));
};
before(() => {
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
});
after(() => {
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
  return `${name}: calls ${delta.calls}, failed ${delta.failed}, wrong ${delta.wrong}, recovered ${delta.recovered}, last failure after ${seconds(figures.map((f) => f.lastFailureAfterMs))}, replacements' first call after ${seconds(figures.map((f) => f.replacementFirstCallAfterMs))}`;
}

/** Calls the victim answered (correctly) between two moments, and all calls answered then. */
function shareBetween(journal: Journal, victim: string, fromMs: number, toMs: number): { victim: number; all: number } {
  const from = journal.samples.find((s) => s.t >= fromMs);
  const to = sampleAt(journal, toMs);
  if (!from || !to || to.t <= from.t) return { victim: Number.NaN, all: 0 };
  return { victim: (to.byInstance[victim] ?? 0) - (from.byInstance[victim] ?? 0), all: to.ok - from.ok };
}

interface Case {
  readonly stack: ComposeStack;
  readonly journal: Journal;
  readonly log: string[];
}

/** How a shared stack runs: make up's defaults at 50 calls/s unless said otherwise. */
interface SharedStackOptions {
  readonly profile?: StackProfile;
  readonly env?: Record<string, string>;
  /** The instances the client resolves when steady (with datacenters: the preferred one's). */
  readonly resolved?: number;
}

/** A compose stack for the scenarios of one describe(), with its decoy. */
class SharedStack {
  stack: ComposeStack | undefined;
  decoy: { container: StartedTestContainer; startedAt: string } | undefined;

  constructor(
    readonly what: string,
    private readonly options: SharedStackOptions = {},
  ) {}

  async start(): Promise<void> {
    const project = newProjectName(this.what);
    liveProjects.add(project);
    this.stack = await ComposeStack.start(project, {
      profile: this.options.profile ?? 'single',
      env: { CALL_RATE: '50', ...this.options.env },
    });
    const container = await this.stack.startDecoy();
    this.decoy = { container, startedAt: (await docker.getContainer(container.getId()).inspect()).State.StartedAt };
  }

  async stop(): Promise<void> {
    if (!this.stack) return;
    await this.stack.down();
    liveProjects.delete(this.stack.project);
  }

  /** `violates`: the scenario is meant to break the hypothesis (the judge says how). */
  async withScenario(
    context: TestContext,
    name: string,
    input: unknown,
    judge: (run: Case) => Promise<void> | void,
    { violates = false } = {},
  ): Promise<void> {
    const { stack, decoy } = this;
    assert.ok(stack && decoy, `[${name}] the stack did not start`);
    const scenario: Scenario = scenarioSchema.parse(input);
    const log: string[] = [];
    try {
      // Steady first: the instances resolved, each answering lately (a timeout throws with the last reading).
      const resolved = this.options.resolved ?? 3;
      await statsWhen(
        stack.statsUrl,
        `${resolved} instances resolved, each answering within the last 3 s (before ${name}'s faults)`,
        (stats) =>
          stats.resolvedInstances.length === resolved &&
          stats.resolvedInstances.every((key) => (stats.lastOkAtByInstance[instanceIdOf(key)] ?? 0) > Date.now() - 3_000),
        30_000,
      );
      const consul = await stack.consulApi();
      const journal = await runScenario({
        scenario,
        file: `${name} (e2e)`,
        seed: 1,
        driver: stack.driver,
        statsUrl: stack.statsUrl,
        consul,
        log: (line) => log.push(line),
        status: () => undefined,
      }).finally(() => consul.close());
      assert.equal(journal.status, 'completed', `[${name}] run status; log:\n${log.join('\n')}`);
      if (violates) assert.equal(journal.deviated, true, `[${name}] the hypothesis was violated; log:\n${log.join('\n')}`);
      else
        assert.ok(
          !journal.deviated,
          say(
            name,
            'hypothesis',
            deltaOf(journal),
            journal.probes.filter((probe) => !probe.ok),
          ),
        );
      // Every fault read back applied and undone: the counters below are about faults that happened.
      assertFaultsProven(journal, { name, verdict: violates ? 'violated' : 'held' });
      await judge({ stack, journal, log });
      context.diagnostic(summarise(name, journal));

      const decoyState = (await docker.getContainer(decoy.container.getId()).inspect()).State;
      assert.ok(
        decoyState.Running && !decoyState.Paused && decoyState.StartedAt === decoy.startedAt,
        `[${name}] the decoy was touched: ${JSON.stringify(decoyState)}`,
      );
      await assert.rejects(
        stack.driver.describe(decoy.container.getId()),
        RefusedTargetError,
        `[${name}] the driver refuses the decoy even by id`,
      );
      // The next scenario shares this stack: this one fails if it left anything behind.
      await assertStackClean(stack, { name });
    } catch (error) {
      if (error instanceof Error)
        error.message += `\n[${name}] runner log:\n${log.join('\n')}\n[${name}] container logs saved in ${await stack.saveLogs(name)}`;
      throw error;
    }
  }
}

/** In the live page: the id of the one instance row at 0 calls/s while at least two others serve, or false. */
const ONE_SILENT_INSTANCE = `(() => {
  const rows = [...document.querySelectorAll('#instances tr[data-instance]')];
  const rate = (row) => Number(row.getAttribute('data-rate'));
  const zero = rows.filter((row) => rate(row) === 0);
  return zero.length === 1 && rows.filter((row) => rate(row) > 0).length >= 2 ? zero[0].getAttribute('data-instance') : false;
})()`;

/** A direct call that ended with one of `outcomes`, taking at least `atLeastMs`. */
const everyCall =
  (outcomes: readonly string[], atLeastMs: number) =>
  (call: DirectCall): boolean =>
    outcomes.includes(call.outcome) && call.tookMs >= atLeastMs;
/** No direct call answered. */
const noneOk = (call: DirectCall): boolean => call.outcome !== 'ok';
/** Direct calls in a few words: how many, their outcomes, how long they took. */
function summary(calls: readonly DirectCall[]): string {
  const outcomes = [...new Set(calls.map((call) => call.outcome))].join('/');
  const took = calls.map((call) => call.tookMs);
  return `${calls.length} ${outcomes}, ${Math.min(...took)}-${Math.max(...took)} ms`;
}

/** The first sample after `from` in which `instanceId` answered more calls than before it, or undefined. */
function firstServedAfter(journal: Journal, instanceId: string, from: number): number | undefined {
  const before = sampleAt(journal, from)?.byInstance[instanceId] ?? 0;
  return journal.samples.find((sample) => sample.t > from && (sample.byInstance[instanceId] ?? 0) > before)?.t;
}

// The stacks run side by side, each its scenarios one after another: a
// stack at rest costs little (docs/idle-cost.md) and a scenario mostly waits
// out its fault, so several at once divide the file's time on two cores. A suite's
// tests inherit its concurrency: each stack's describe sets 1 again. The
// corrupt instance runs on the first stack only to even out their times
// (measured 204 s and 230 s before, the file bound by the longer). The fourth,
// PROFILE=ha's three Consul servers, is e2e/ha-stack.ts's.
describe('four shared stacks at once', { concurrency: 4 }, () => {
  describeHaStack();

  describe('kills, replacements and a corrupt instance, on one stack', { concurrency: 1 }, () => {
    const shared = new SharedStack('kills');
    before(() => shared.start());
    after(() => shared.stop());

    test('rolling SIGKILL with replacement on a new port for 30 s: 0 failed, 0 wrong, every replacement served', async (t) => {
      await shared.withScenario(
        t,
        'rolling-kill',
        {
          title: 'rolling kill 30 s',
          method: [{ action: 'replace', how: 'kill', signal: 'SIGKILL', at: '3s', every: '5s', times: 6, jitter: '1s' }],
          settle: '8s',
        },
        async ({ journal }) => {
          const delta = deltaOf(journal);
          assert.equal(delta.failed, 0, say('rolling-kill', 'failed calls', delta));
          assert.equal(delta.wrong, 0, say('rolling-kill', 'wrong results', delta));
          assert.equal(
            journal.actions.filter((a) => a.outcome === 'done').length,
            6,
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
        },
      );
    });

    test("the live view during a real chaos run, in headless Chromium: numbers move, the fault's window appears when it starts, the killed instance's line drops to 0, its time to detect shows", async (t) => {
      const stack = shared.stack as ComposeStack;
      await statsWhen(stack.statsUrl, '3 instances resolved', (stats) => stats.resolvedInstances.length === 3, 30_000);
      // make up's page: the client serves the same view at its stats port, its script from the image beside it.
      assert.match(await (await fetch(`${stack.statsUrl}/`)).text(), /<script type="module" src="live\.js">/);
      assert.match(await (await fetch(`${stack.statsUrl}/live.js`)).text(), /new EventSource\('events'\)/);

      const out = mkdtempSync(join(tmpdir(), 'live-view-'));
      const scenarioFile = join(out, 'kill-one.yaml');
      // SIGKILLed and replaced on a new port: the killed instance stays gone (a plain kill is started again when the method ends).
      writeFileSync(
        scenarioFile,
        'title: kill one\nmethod:\n  - action: replace\n    how: kill\n    at: 8s\n    target: oldest\nsettle: 8s\n',
      );
      const port = await freePort();
      const { child, output } = spawnChaosCli([
        '--scenario',
        scenarioFile,
        '--seed',
        '1',
        '--project',
        stack.project,
        '--stats-url',
        stack.statsUrl,
        '--out',
        out,
        '--live-port',
        String(port),
      ]);
      const exited = once(child, 'exit');
      let browser: Awaited<ReturnType<typeof openHeadless>> | undefined;
      try {
        assert.ok(await eventually(() => output().includes(`live view: http://127.0.0.1:${port}/`), 30_000), output());
        browser = await openHeadless(`http://127.0.0.1:${port}/`);
        const { page } = browser;
        const text = (selector: string): Promise<string> => page.$eval(selector, (node) => node.textContent ?? '');
        await page.waitForFunction("document.getElementById('status')?.textContent === 'live'", { timeout: 15_000 });
        // The plan is shown before its fault starts.
        await page.waitForSelector('[data-planned="0"]', { timeout: 20_000 });
        assert.equal(await page.$$eval('[data-fault-window]', (nodes) => nodes.length), 0, 'no fault window before the fault');
        const okBefore = Number(await text('#total-ok'));
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        const okAfter = Number(await text('#total-ok'));
        assert.ok(okAfter > okBefore, `the calls total moves: ${okBefore} -> ${okAfter}`);
        assert.equal((await page.$$('#instances tr[data-instance]')).length, 3);

        await page.waitForSelector('[data-fault-window="0"]', { timeout: 30_000 });
        const faultShownAt = Date.now();
        // The one instance whose current calls/s is 0 while the others serve.
        const silent = await page.waitForFunction(ONE_SILENT_INSTANCE, { timeout: 20_000, polling: 250 });
        const silentInstance = (await silent.jsonValue()) as string;
        assert.ok(await page.$(`path[data-line="${silentInstance}"]`), 'its line is drawn');
        // Its failover timing: out of the resolver's set once Consul's check fails it.
        await page.waitForFunction(`(document.querySelector('[data-timing="0"] td:nth-child(2)')?.textContent ?? '').endsWith(' s')`, {
          timeout: 30_000,
          polling: 250,
        });
        await page.screenshot({ path: join(out, 'live-view.png') });

        const [code] = await exited;
        assert.equal(code, 0, output());
        const journal = journalIn(out);
        assertFaultsProven(journal, { name: 'live view: kill one' });
        const killed = journal.actions[0];
        assert.deepEqual(killed?.targets, [silentInstance], 'the line at 0 is the killed instance');
        assert.ok(
          faultShownAt - (killed?.startedAt ?? 0) < 5_000,
          `the window appeared ${faultShownAt - (killed?.startedAt ?? 0)} ms after the fault started`,
        );
        t.diagnostic(
          `live view: fault window shown ${faultShownAt - (killed?.startedAt ?? 0)} ms after the kill; screenshot ${join(out, 'live-view.png')}`,
        );
        await assertStackClean(stack, { name: 'live view: kill one' });
      } catch (error) {
        child.kill('SIGINT');
        await exited;
        if (error instanceof Error) error.message += `\nchaos output:\n${output()}`;
        throw error;
      } finally {
        await browser?.close();
      }
      rmSync(out, { recursive: true, force: true });
    });

    test('graceful stop of one instance: 0 failed', async (t) => {
      await shared.withScenario(
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

    test('freeze (pause) of one instance for 12 s: 0 failed', async (t) => {
      await shared.withScenario(
        t,
        'freeze',
        { title: 'freeze 12 s', method: [{ action: 'pause', at: '2s', duration: '12s' }], settle: '6s' },
        ({ journal }) => {
          const delta = deltaOf(journal);
          assert.equal(delta.failed, 0, say('freeze', 'failed calls', delta));
          assert.equal(delta.wrong, 0, say('freeze', 'wrong results', delta));
          assert.equal(journal.rollbacks.length, 1, say('freeze', 'unpaused', delta, journal.rollbacks));
        },
      );
    });

    test('scale churn 3 -> 5 -> 2 -> 3: 0 failed, new instances take traffic', async (t) => {
      await shared.withScenario(
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

    test('seed parity: all stopped and back on new ports: 0 wrong, failures only while no instance was up, calls succeed again', async (t) => {
      await shared.withScenario(
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

    test('corrupt instance: every wrong sum is counted wrong (never ok), the hypothesis is violated, and the fault is cleared', async (t) => {
      await shared.withScenario(
        t,
        'corrupt',
        { title: 'corrupt', method: [{ action: 'corrupt', at: '2s', duration: '8s' }], settle: '5s' },
        ({ journal }) => {
          const delta = deltaOf(journal);
          const [action] = journal.actions;
          const victim = action?.targets[0] ?? '';
          assert.ok(delta.wrong > 20, say('corrupt', 'wrong results counted', delta));
          assert.equal(delta.failed, 0, say('corrupt', 'failed calls', delta));
          assert.ok(
            journal.probes.some((probe) => probe.probe === 'wrong-results' && !probe.ok),
            say('corrupt', 'the hypothesis says violated', delta, journal.probes),
          );
          // From a second in (the key reaches the instance) to the clear, the victim's answers are never counted ok.
          const share = shareBetween(journal, victim, (action?.startedAt ?? 0) + 1_000, (action?.undoneAt ?? 0) - 200);
          assert.equal(share.victim, 0, say('corrupt', 'answers of the corrupt instance counted ok', delta, share));
          // Cleared: it answers correctly again.
          assert.ok(
            firstServedAfter(journal, victim, action?.undoneAt ?? 0) !== undefined,
            say('corrupt', 'served correctly after the clear', delta),
          );
        },
        { violates: true },
      );
    });
  });

  describe('network faults, Consul and the other gray faults, on another stack', { concurrency: 1 }, () => {
    const shared = new SharedStack('network');
    before(() => shared.start());
    after(() => shared.stop());

    test('a partition of one instance (every packet dropped): 0 failed, 0 wrong, the victim gets nothing, then is served again', async (t) => {
      await shared.withScenario(
        t,
        'partition',
        { title: 'partition', method: [{ action: 'partition', at: '2s', duration: '11s' }], settle: '8s' },
        ({ journal }) => {
          const delta = deltaOf(journal);
          assert.equal(delta.failed, 0, say('partition', 'failed calls', delta));
          assert.equal(delta.wrong, 0, say('partition', 'wrong results', delta));
          const [action] = journal.actions;
          const victim = action?.targets[0] ?? '';
          // Give keepalive and Consul's check 5 s to notice, then the victim must get nothing while others do.
          const from = journal.samples.find((s) => s.t >= (action?.startedAt ?? 0) + 5_000);
          const to = sampleAt(journal, action?.undoneAt ?? 0);
          assert.ok(from && to && to.t > from.t, say('partition', 'samples inside the partition', delta));
          const victimCalls = (to.byInstance[victim] ?? 0) - (from.byInstance[victim] ?? 0);
          const totalCalls = to.ok - from.ok;
          assert.equal(victimCalls, 0, say('partition', `calls to the partitioned ${victim}`, delta));
          assert.ok(totalCalls > 200, say('partition', 'traffic went on through the others', delta, { totalCalls }));
          const healedAt = action?.undoneAt ?? 0;
          const servedAt = firstServedAfter(journal, victim, healedAt);
          t.diagnostic(`partition: victim served again ${servedAt === undefined ? 'never' : `${servedAt - healedAt} ms`} after the heal`);
          // That it is served again; how soon is bench/partition-vs-disconnect.ts's figure.
          assert.ok(servedAt !== undefined, say('partition', 'the victim served again after the heal', delta));
        },
      );
    });

    test("a disconnect while a new instance takes the victim's address and port: the victim moves its registration and is served again", async (t) => {
      await shared.withScenario(
        t,
        'disconnect-readdressed',
        {
          title: 'disconnect, and a new instance on the same port takes the freed address',
          method: [
            { action: 'disconnect', target: 'oldest', at: '2s', duration: '12s' },
            // Back to 3 of the 2 left: Docker gives the new one the lowest free address, the victim's.
            { action: 'scale', to: 3, portStep: 0, at: '5s' },
            // The victim is back on another address: down to 3 again (the newest goes).
            { action: 'scale', to: 3, at: '24s' },
          ],
          settle: '8s',
        },
        async ({ journal, stack }) => {
          const delta = deltaOf(journal);
          const [disconnect, scaleUp] = journal.actions;
          const victim = disconnect?.targets[0] ?? '';
          // The details name each container's address as (ip:port): the victim's, then the new instance's.
          const addressesIn = (detail = ''): string[] =>
            [...detail.matchAll(/\((\d+\.\d+\.\d+\.\d+):\d+\)/g)].map((match) => match[1] ?? '');
          const [victimOldAddress] = addressesIn(disconnect?.detail);
          // The sequence this test is about: Docker gave the freed address (and the same port) to another instance.
          assert.equal(
            addressesIn(scaleUp?.detail)[0],
            victimOldAddress,
            say(
              'disconnect-readdressed',
              "the new instance took the victim's address",
              delta,
              journal.actions.map((a) => a.detail),
            ),
          );
          assert.equal(delta.failed, 0, say('disconnect-readdressed', 'failed calls', delta));
          assert.equal(delta.wrong, 0, say('disconnect-readdressed', 'wrong results', delta));
          const reconnectedAt = disconnect?.undoneAt ?? 0;
          const servedAt = firstServedAfter(journal, victim, reconnectedAt);
          t.diagnostic(
            `disconnect-readdressed: ${victimOldAddress} taken by a new instance; victim served again ${servedAt === undefined ? 'never' : `${servedAt - reconnectedAt} ms`} after reconnecting`,
          );
          // That it is served again; how soon is bench/partition-vs-disconnect.ts's figure.
          assert.ok(servedAt !== undefined, say('disconnect-readdressed', 'the victim served again after reconnecting', delta));
          const registrations = (await registrationsOf(await stack.consulApi(), 'HelloService')).get(victim) ?? [];
          const current = (await stack.driver.targets('hello')).find((target) => target.instanceId === victim);
          assert.deepEqual(
            registrations.map((r) => `${r.address} ${r.status}`),
            [`${current?.ip} passing`],
            say('disconnect-readdressed', `Consul holds the victim at its new address only (old ${victimOldAddress})`, delta),
          );
        },
      );
    });

    test('Consul restarted: 0 failed while it is down, every instance registered again afterwards', async (t) => {
      await shared.withScenario(
        t,
        'consul-restart',
        { title: 'consul restart', method: [{ action: 'restart-consul', at: '2s', downtime: '4s' }], settle: '10s' },
        async ({ journal, stack }) => {
          const delta = deltaOf(journal);
          assert.equal(delta.failed, 0, say('consul-restart', 'failed calls', delta));
          assert.equal(delta.wrong, 0, say('consul-restart', 'wrong results', delta));
          const live = (await stack.driver.targets('hello')).map((target) => target.instanceId).sort();
          assert.deepEqual(await stack.passingInstanceIds(), live, say('consul-restart', 'every instance registered again', delta));
        },
      );
    });

    // Gray faults: the instance stays up and passes its checks (but for unhealthy), and answers badly.

    /**
     * A gray fault's judge: no call failed or was wrong, and from `afterMs` into
     * the fault until it was cleared (its last 8 s) the victim got under `below`
     * of the calls (round robin would give it a third).
     */
    function assertVictimShareBelow(t: TestContext, name: string, journal: Journal, afterMs: number, below: number, what: string): void {
      const delta = deltaOf(journal);
      assert.equal(delta.failed, 0, say(name, 'failed calls', delta));
      assert.equal(delta.wrong, 0, say(name, 'wrong results', delta));
      const [action] = journal.actions;
      const share = shareBetween(journal, action?.targets[0] ?? '', (action?.startedAt ?? 0) + afterMs, action?.undoneAt ?? 0);
      t.diagnostic(`${name}: the victim answered ${share.victim} of ${share.all} calls in the fault's last 8 s`);
      assert.ok(share.all > 200, say(name, 'calls flowed', delta, share));
      assert.ok(share.victim / share.all < below, say(name, what, delta, share));
    }

    test('flaky (50 % UNAVAILABLE) instance: 0 failed, 0 wrong, and outlier detection ejects it (its share falls near 0)', async (t) => {
      await shared.withScenario(
        t,
        'flaky',
        // Settle 25 s: an instance ejected again and again stays out up to base x
        // ejections (5 s each, 15 s after a 16 s fault seen) before it is called
        // again, and the after-check wants every instance served (settle 6 s failed).
        { title: 'flaky', method: [{ action: 'flaky', at: '2s', duration: '16s', ratio: 0.5 }], settle: '25s' },
        ({ journal }) =>
          // After 8 s (ejection takes an interval or two), until the fault is cleared.
          assertVictimShareBelow(t, 'flaky', journal, 8_000, 0.1, 'the flaky instance ejected (share < 10 %, round robin gives 33 %)'),
      );
    });

    test('slow (+300 ms) instance: 0 failed, 0 wrong, and weighted round robin starves it (its share falls near 0)', async (t) => {
      await shared.withScenario(
        t,
        'slow',
        // Settle 15 s: a starved instance wins its share back only once its low weight
        // lapses (weight_expiration_period 10 s), and the after-check wants it served.
        { title: 'slow', method: [{ action: 'slow', at: '2s', duration: '12s', delay: '300ms', delayJitter: '50ms' }], settle: '15s' },
        ({ journal }) => {
          assert.match(journal.actions[0]?.detail ?? '', /slow: \+300 ms ± 50 ms on /);
          // After 4 s (its load reports every 0.5 s, weights every 0.5 s), until the fault is cleared.
          assertVictimShareBelow(t, 'slow', journal, 4_000, 0.05, 'the slow instance starved (share < 5 %, round robin gives 33 %)');
        },
      );
    });

    test('unhealthy instance (NOT_SERVING, still answering): 0 failed, drained within one Consul propagation, served again after', async (t) => {
      await shared.withScenario(
        t,
        'unhealthy',
        { title: 'unhealthy', method: [{ action: 'unhealthy', at: '2s', duration: '11s' }], settle: '8s' },
        ({ journal }) => {
          const delta = deltaOf(journal);
          assert.equal(delta.failed, 0, say('unhealthy', 'failed calls', delta));
          assert.equal(delta.wrong, 0, say('unhealthy', 'wrong results', delta));
          const [action] = journal.actions;
          const victim = action?.targets[0] ?? '';
          // Consul's gRPC check runs every 2 s; the blocking query carries the change at once: 4 s is one propagation, with slack.
          const share = shareBetween(journal, victim, (action?.startedAt ?? 0) + 4_000, action?.undoneAt ?? 0);
          assert.equal(share.victim, 0, say('unhealthy', 'calls to the unhealthy instance after one propagation', delta, share));
          assert.ok(share.all > 200, say('unhealthy', 'traffic went on through the others', delta, share));
          const servedAt = firstServedAfter(journal, victim, action?.undoneAt ?? 0);
          assert.ok(servedAt !== undefined, say('unhealthy', 'served again once healthy', delta));
        },
      );
    });
  });

  // PROFILE=multi-dc at 200 calls/s: dc1 taken out three ways; the client
  // (in neither datacenter) must move to dc2 without a failed call and come
  // back once dc1 returns. Each fault's proofs say it was applied and undone;
  // the client's served-by switches say when it moved.
  describe('a datacenter lost, partitioned and emptied, on a multi-dc stack', { concurrency: 1 }, () => {
    const shared = new SharedStack('dcs', { profile: 'multi-dc', env: { CALL_RATE: '200', HELLO_REPLICAS: '2' }, resolved: 2 });
    before(() => shared.start());
    after(() => shared.stop());

    test('every container hardened as in the other profiles; each Consul server and instance labelled with its datacenter, the client with none', async () => {
      const { stack, decoy } = shared;
      assert.ok(stack && decoy, 'the multi-dc stack started');
      // The decoy carries the project's label on purpose (the driver must refuse it anyway); it is the test's, not the stack's.
      const containers = (
        await docker.listContainers({ all: true, filters: { label: [`${COMPOSE_PROJECT_LABEL}=${stack.project}`] } })
      ).filter((container) => container.Id !== decoy.container.getId());
      const placed = containers
        .map((container) => `${container.Labels[ROLE_LABEL] ?? '?'}:${container.Labels[DATACENTER_LABEL] ?? '-'}`)
        .sort();
      assert.deepEqual(placed, [
        'client:-',
        'consul-acl:-',
        'consul:dc1',
        'consul:dc2',
        'hello:dc1',
        'hello:dc1',
        'hello:dc2',
        'hello:dc2',
      ]);
      for (const { Id } of containers) assertHardened(await docker.getContainer(Id).inspect());
    });

    test("with dc1's Consul stopped, every program's token still reads dc2 (ACLs replicated from dc1, tokens global)", async () => {
      const { stack } = shared;
      assert.ok(stack, 'the multi-dc stack started');
      const [dc1Consul] = (await stack.driver.targets('consul')).filter((target) => target.datacenter === 'dc1');
      assert.ok(dc1Consul, "dc1's Consul server");
      await stack.driver.stop(dc1Consul, 5_000);
      try {
        assert.equal((await docker.getContainer(dc1Consul.containerId).inspect()).State.Running, false, 'the premise: dc1 is down');
        for (const token of ['hello-client', 'hello-server', 'chaos-runner', 'ui-read'] as const) {
          // With dc1's server down, only dc2's is published: every request goes to dc2.
          const consul = await stack.consulApi(token);
          try {
            const { instances } = await consul.healthService({ service: HELLO_SERVICE_NAME, dc: 'dc2' });
            assert.equal(instances.length, 2, `${token}: dc2's 2 instances read with dc1 gone`);
            assert.ok(
              instances.every((instance) => instance.datacenter === 'dc2'),
              `${token}: from dc2 (${instances.map((i) => i.datacenter).join(', ')})`,
            );
          } finally {
            consul.close();
          }
        }
      } finally {
        await stack.driver.start(dc1Consul);
        assert.ok(await stack.driver.waitHealthy(dc1Consul, 60_000), "dc1's Consul healthy again");
      }
      await assertStackClean(stack, { name: 'tokens in dc2' });
    });

    /**
     * One step on this stack under the shipped scenarios' hypothesis, then
     * what every fault here must show (0 failed, 0 wrong, at least `minOk`
     * calls at 200/s), then the step's own checks.
     */
    async function holdsAt200(
      t: TestContext,
      stepOrSteps: { readonly action: string } | readonly { readonly action: string }[],
      { settle, minOk, flowed }: { settle: string; minOk: number; flowed: string },
      own: (journal: Journal, delta: Delta) => void,
    ): Promise<void> {
      const method = 'action' in stepOrSteps ? [stepOrSteps] : stepOrSteps;
      const kind = method.map((step) => step.action).join('+');
      await shared.withScenario(
        t,
        kind,
        {
          title: kind,
          hypothesis: { successRatioAtLeast: 1.0, maxWrong: 0, everyLiveInstanceServedWithin: '6s' },
          method,
          settle,
          keepAlive: 1,
        },
        ({ journal }) => {
          const delta = deltaOf(journal);
          assert.equal(delta.failed, 0, say(kind, 'failed calls', delta));
          assert.equal(delta.wrong, 0, say(kind, 'wrong results', delta));
          assert.ok(delta.ok > minOk, say(kind, `calls flowed (${flowed})`, delta));
          own(journal, delta);
        },
      );
    }

    // Network and resource faults on one instance of dc1 (it keeps its address
    // and keeps running; memory pressure may end it): the client stays on dc1
    // and must not fail a call. Each fault's read-back proves it was applied
    // (the DROP rules with their probability, the CPU quota, the memory limit)
    // and undone.
    const instanceFaults = [
      { action: 'packet-loss', probability: 0.3, at: '1s', duration: '6s' },
      { action: 'cpu-starve', cpus: 0.05, at: '1s', duration: '6s' },
      { action: 'memory-pressure', memory: '64m', at: '1s', duration: '6s' },
    ] as const;
    for (const step of instanceFaults) {
      const kind = step.action;
      test(`${kind} on one dc1 instance for 6 s at 200 calls/s: 0 failed, 0 wrong, applied and undone`, async (t) => {
        await holdsAt200(t, step, { settle: '5s', minOk: 1_500, flowed: '200/s for 12 s' }, (journal) => {
          const [action] = journal.actions;
          t.diagnostic(`${kind}: applied: ${action?.applied?.observed ?? '?'}; undone: ${action?.undone?.observed ?? '?'}`);
        });
      });
    }

    // The network toxics, one after another on the same dc1 instance (each
    // undone before the next; one run instead of four to keep make test in
    // its time), then a black hole in front of dc1's Consul server: 0 failed
    // and 0 wrong, each read back applied (its toxic in force, the port
    // redirected, no connection bypassing the proxy) and undone. And felt:
    // calls made straight to that instance's address (and requests to dc1's
    // Consul) while each is on, past the client's call policy, show what its
    // wire does (late answers, thin answers, resets, silence).
    test("latency, bandwidth, reset-peer and blackhole on one dc1 instance, then blackhole on dc1's Consul, 6 s each at 200 calls/s: 0 failed, 0 wrong, each applied, felt on its wire, and undone", async (t) => {
      const { stack } = shared;
      assert.ok(stack, 'the multi-dc stack started');
      const [victim] = inPreferredDatacenter((await stack.driver.targets('hello')).filter((target) => target.state === 'running'));
      assert.ok(victim, 'a dc1 instance');
      const [dc1Consul] = inPreferredDatacenter(await stack.driver.targets('consul'));
      assert.ok(dc1Consul, "dc1's Consul server");
      const probe = new DirectProbe(helloCallTo(`${victim.ip}:${victim.port}`, 2_000));
      // dc1's Consul through its published port (the first of the stack's), as make chaos and a user reach it.
      const consul = await stack.consulApi();
      const [dc1Endpoint] = consul.endpoints;
      const consulProbe = new DirectProbe(async () =>
        consul.healthService({ service: HELLO_SERVICE_NAME }, { endpoint: dc1Endpoint, timeoutMs: 2_000 }).then(
          () => 'ok',
          (error: unknown) => (error instanceof ConsulError ? error.kind : 'error'),
        ),
      );
      const steps = [
        { action: 'latency', delay: '200ms', target: 'oldest', at: '1s', duration: '6s' },
        { action: 'bandwidth', rate: 1, target: 'oldest', at: '9s', duration: '6s' },
        { action: 'reset-peer', target: 'oldest', at: '17s', duration: '6s' },
        { action: 'blackhole', target: 'oldest', at: '25s', duration: '6s' },
        { action: 'blackhole', on: 'consul', at: '33s', duration: '6s' },
      ] as const;
      try {
        await holdsAt200(t, steps, { settle: '5s', minOk: 6_000, flowed: '200/s for 44 s' }, (journal, delta) => {
          const firstAt = journal.actions[0]?.startedAt ?? 0;
          for (const [name, calls] of [
            ['instance', probe.between(0, firstAt - 1)],
            ['Consul', consulProbe.between(0, firstAt - 1)],
          ] as const) {
            // The premise of "200 ms late": before the faults, every direct call answered, most well
            // within it (the median; one call of a loaded machine may take longer, each a new TLS channel).
            const took = calls.map((call) => call.tookMs).sort((a, b) => a - b);
            const median = took[Math.floor(took.length / 2)] ?? Number.POSITIVE_INFINITY;
            assert.ok(
              calls.length >= 2 && calls.every((call) => call.outcome === 'ok') && median < 100,
              say('network', `direct calls to the ${name} before the faults answered, their median under 100 ms: ${summary(calls)}`, delta),
            );
          }
          for (const [index, action] of journal.actions.entries()) {
            const onConsul = index === 4;
            const expected: string[] = onConsul ? [dc1Consul.name] : [victim.instanceId];
            assert.deepEqual(action.targets, expected, say(action.kind, 'the target is the one called directly', delta));
            // From when its apply returned (the redirect and the reset of old connections done) until a
            // call's deadline (2 s) and 0.5 s of slack before its undo begins (6 s after its start).
            const during = (onConsul ? consulProbe : probe).between(action.endedAt ?? 0, (action.startedAt ?? 0) + 3_500);
            // At 1 KB/s even a new connection's TLS handshake takes seconds: a call is answered late or not by its deadline.
            const felt = onConsul
              ? everyCall(['unreachable'], 2_000)
              : {
                  latency: everyCall(['ok'], 200),
                  bandwidth: everyCall(['ok', 'DEADLINE_EXCEEDED'], 200),
                  'reset-peer': noneOk,
                  blackhole: everyCall(['DEADLINE_EXCEEDED'], 2_000),
                }[action.kind as (typeof steps)[number]['action']];
            assert.ok(
              during.length >= 6 && during.every(felt),
              say(action.kind, `felt on the wire: direct calls ${JSON.stringify(during)}`, delta),
            );
            t.diagnostic(
              `${action.kind}${onConsul ? ' on Consul' : ''}: direct calls ${summary(during)}; applied: ${action.applied?.observed ?? '?'}`,
            );
          }
        });
      } finally {
        await Promise.all([probe.stop(), consulProbe.stop()]);
        consul.close();
      }
    });

    const faults = [
      { action: 'lose-datacenter', datacenter: 'dc1', at: '2s', duration: '8s' },
      { action: 'partition-datacenter', datacenter: 'dc1', at: '2s', duration: '8s' },
      { action: 'empty-datacenter', datacenter: 'dc1', at: '2s', duration: '8s' },
    ] as const;
    for (const step of faults) {
      const kind = step.action;
      test(`${kind} of dc1 for 8 s at 200 calls/s: 0 failed, 0 wrong, served by dc2 meanwhile, back on dc1 after`, async (t) => {
        await holdsAt200(t, step, { settle: '12s', minOk: 3_000, flowed: '200/s for 22 s' }, (journal, delta) => {
          const failover = journal.actions[0]?.failover;
          assert.equal(failover?.servedByAtFault, 'dc1', say(kind, 'dc1 served when the fault began', delta, failover));
          assert.equal(failover.failedOver?.to, 'dc2', say(kind, 'correct answers came from dc2 during the fault', delta, failover));
          assert.ok(failover.failedBack !== undefined, say(kind, 'correct answers came from dc1 again after the undo', delta, failover));
          t.diagnostic(
            `${kind}: failed over after ${failover.failedOver.afterMs} ms, failed back ${failover.failedBack.afterMs} ms after the undo`,
          );
        });
      });
    }
  });
});
