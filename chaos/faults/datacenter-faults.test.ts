import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConsulEndpoint, ConsulHttp, HealthQuery, HealthResult } from '@grpc-consul-lab/consul-discovery';
import { DockerDriver } from '../docker/docker-driver.js';
import { composeScope } from '../docker/labels.js';
import { observe } from '../engine/read-back.js';
import { actionSchema } from '../scenario/schema.js';
import { assertDryRunPlans } from '../test-support/dry-run.js';
import { FakeEngine } from '../test-support/fake-engine.js';
import { keepingUndos, labDriver } from '../test-support/step-context.js';
import { SkippedStep, type StepContext, type StepOutcome, type Undo } from './fault-kind.js';
import { faultKindOf } from './registry.js';

/**
 * lose-datacenter, partition-datacenter and empty-datacenter through the real
 * DockerDriver on an engine in memory (test-support/fake-engine.ts): what each
 * touches (only the scope's chaos targets of the datacenter named), in what
 * order, what its read-backs and its undo's read-backs see, and when it
 * steps aside.
 */
const TARGET = { 'grpc-consul-lab.chaos-target': 'true', 'com.docker.compose.project': 'lab' };
const inDatacenter = (datacenter: string, role: string): Record<string, string> => ({
  ...TARGET,
  'grpc-consul-lab.role': role,
  'grpc-consul-lab.datacenter': datacenter,
});

/** PROFILE=multi-dc as the chaos runner sees it, with the containers it must never touch beside it. */
function multiDc(): FakeEngine {
  const engine = new FakeEngine();
  engine.add('consul', inDatacenter('dc1', 'consul'));
  engine.add('hello-1', inDatacenter('dc1', 'hello'));
  engine.add('hello-2', inDatacenter('dc1', 'hello'));
  engine.add('consul-dc2', inDatacenter('dc2', 'consul'));
  engine.add('hello-dc2-1', inDatacenter('dc2', 'hello'));
  engine.add('hello-dc2-2', inDatacenter('dc2', 'hello'));
  // The client: in no datacenter, not a target.
  engine.add('client', { 'com.docker.compose.project': 'lab' });
  // In dc1 but without the target label, and a target of dc1 of another project: never touched.
  engine.add('dc1-untargeted', { 'com.docker.compose.project': 'lab', 'grpc-consul-lab.datacenter': 'dc1' });
  engine.add('other-project-hello', { ...inDatacenter('dc1', 'hello'), 'com.docker.compose.project': 'other' });
  return engine;
}

/**
 * The Consul servers of each datacenter: the instances of theirs that run,
 * while they run. As right after lose-datacenter's undo, the WAN is not
 * rejoined: a server asked about the other datacenter cannot forward
 * (Consul's "Remote DC has no server currently reachable"). Asked without
 * an agent named, dc2's server answers: the runner's client stuck to it
 * while dc1's was down.
 */
function consulOf(engine: FakeEngine): ConsulHttp {
  const hellos: Record<string, string[]> = { dc1: ['hello-1', 'hello-2'], dc2: ['hello-dc2-1', 'hello-dc2-2'] };
  const endpoints = [
    { https: true, host: 'consul', port: 8501, url: 'https://consul:8501' },
    { https: true, host: 'consul-dc2', port: 8501, url: 'https://consul-dc2:8501' },
  ];
  const datacenterOf = (endpoint: ConsulEndpoint): string => (endpoint.host === 'consul' ? 'dc1' : 'dc2');
  return {
    endpoints,
    healthService: async (query: HealthQuery, options: { readonly endpoint?: ConsulEndpoint } = {}): Promise<HealthResult> => {
      const asked = options.endpoint ?? (endpoints[1] as ConsulEndpoint);
      if (!engine.get(asked.host).running) throw new Error(`connect ECONNREFUSED ${asked.url}`);
      const dc = query.dc ?? datacenterOf(asked);
      if (dc !== datacenterOf(asked)) throw new Error('Remote DC has no server currently reachable');
      const running = (hellos[dc] ?? []).filter((id) => engine.get(id).running);
      return {
        index: 1,
        endpoint: asked.url,
        instances: running.map((id) => ({
          id: `HelloService-${id}-50051`,
          address: id,
          port: 50051,
          tags: [],
          meta: {},
          node: dc,
          status: 'passing',
        })),
      };
    },
  } as unknown as ConsulHttp;
}

interface Applied {
  readonly engine: FakeEngine;
  readonly outcome: StepOutcome;
  readonly undos: Undo[];
  readonly context: StepContext;
}

function contextOn(engine: FakeEngine, keepAlive = 1, underFault = new Set<string>()): { context: StepContext; undos: Undo[] } {
  return keepingUndos({ driver: labDriver(engine), keepAlive, underFault, sleep: async () => undefined, consul: consulOf(engine) });
}

async function apply(
  step: Record<string, unknown>,
  { engine = multiDc(), keepAlive = 1, underFault = new Set<string>() } = {},
): Promise<Applied> {
  const { context, undos } = contextOn(engine, keepAlive, underFault);
  const action = actionSchema.parse(step);
  const outcome = await faultKindOf(action).apply({ action, pick: 0 }, context);
  return { engine, outcome, undos, context };
}

/** Runs what the runner would at the step's end: every undo, the last registered first. */
async function undoAll({ undos }: Applied): Promise<void> {
  for (const undo of [...undos].reverse()) await undo.run();
}

const running = (engine: FakeEngine): string[] =>
  ['consul', 'hello-1', 'hello-2', 'consul-dc2', 'hello-dc2-1', 'hello-dc2-2'].filter((id) => engine.get(id).running);
const UNTOUCHABLE = ['client', 'dc1-untargeted', 'other-project-hello'];
const touched = (engine: FakeEngine): string[] => engine.calls.map((call) => call.split(' ')[1] ?? '');

test('lose-datacenter stops every target of dc1, Consul and instances; undone Consul first, its instances once it is healthy', async () => {
  const applied = await apply({ action: 'lose-datacenter', duration: '15s' });
  const { engine, outcome, undos } = applied;
  assert.deepEqual(engine.calls.sort(), ['stop consul', 'stop hello-1', 'stop hello-2']);
  assert.deepEqual(running(engine), ['consul-dc2', 'hello-dc2-1', 'hello-dc2-2']);
  assert.deepEqual(outcome.targets, ['consul', 'HelloService-hello-1-50051', 'HelloService-hello-2-50051']);
  assert.deepEqual(await outcome.proof(), { observed: 'consul exited; hello-1 exited; hello-2 exited', ok: true });
  assert.equal(undos.length, 1);
  assert.deepEqual([...applied.context.underFault].sort(), ['consul', 'hello-1', 'hello-2'], 'held until undone');

  engine.calls.length = 0;
  // Its Consul reports `starting` twice before `healthy`: its instances must wait for that.
  engine.get('consul').startsSlowly = 2;
  await undoAll(applied);
  assert.deepEqual(engine.calls.slice(0, 2), ['start consul', 'healthy consul'], 'its Consul first, healthy');
  assert.deepEqual(engine.calls.slice(2).sort(), ['start hello-1', 'start hello-2']);
  assert.deepEqual(await undos[0]?.proof(), {
    observed: 'consul running; hello-1 running; hello-2 running; Consul of dc1: 2 of its 2 instance(s) passing',
    ok: true,
  });
  assert.equal(applied.context.underFault.size, 0);
});

test("lose-datacenter's undo does not read back until dc1's Consul has its instances passing again", async () => {
  const applied = await apply({ action: 'lose-datacenter' });
  await undoAll(applied);
  // Consul of dc1 back, its instances not registered yet (as right after a start): not undone yet.
  applied.engine.get('hello-2').running = false;
  const undone = await observe(applied.undos[0]?.proof ?? (async () => ({ observed: '', ok: false })), 0);
  assert.equal(undone.ok, false);
  assert.match(undone.observed, /hello-2 exited; Consul of dc1: 1 of its 2 instance\(s\) passing$/);
});

test('partition-datacenter drops the packets of every target of dc1 and lets them through again, each read back', async () => {
  const applied = await apply({ action: 'partition-datacenter', datacenter: 'dc1' });
  const { engine, outcome, undos } = applied;
  assert.deepEqual(engine.calls.sort(), ['drop consul', 'drop hello-1', 'drop hello-2']);
  assert.deepEqual(running(engine).length, 6, 'nothing stopped: addresses kept');
  const dropped = await outcome.proof();
  assert.equal(dropped.ok, true, dropped.observed);
  assert.match(dropped.observed, /^consul: -A INPUT ! -i lo -j DROP and -A OUTPUT ! -o lo -j DROP; hello-1: /);
  assert.equal((await undos[0]?.proof())?.ok, false, 'not undone before its undo ran');

  engine.calls.length = 0;
  await undoAll(applied);
  assert.deepEqual(engine.calls.sort(), ['restore consul', 'restore hello-1', 'restore hello-2']);
  assert.deepEqual(await undos[0]?.proof(), { observed: 'consul: no DROP rule; hello-1: no DROP rule; hello-2: no DROP rule', ok: true });
  assert.equal((await outcome.proof()).ok, false, 'the applied read-back no longer holds');
});

test("empty-datacenter stops dc1's instances only, its Consul left up, and reads Consul of dc1 back: none passing, then all", async () => {
  const applied = await apply({ action: 'empty-datacenter' });
  const { engine, outcome, undos } = applied;
  assert.deepEqual(engine.calls.sort(), ['stop hello-1', 'stop hello-2']);
  assert.deepEqual(running(engine), ['consul', 'consul-dc2', 'hello-dc2-1', 'hello-dc2-2']);
  assert.deepEqual(outcome.targets, ['HelloService-hello-1-50051', 'HelloService-hello-2-50051']);
  assert.deepEqual(await outcome.proof(), {
    observed: 'hello-1 exited; hello-2 exited; Consul of dc1: 0 of its 2 instance(s) passing',
    ok: true,
  });
  await undoAll(applied);
  assert.deepEqual(await undos[0]?.proof(), {
    observed: 'hello-1 running; hello-2 running; Consul of dc1: 2 of its 2 instance(s) passing',
    ok: true,
  });
});

test('each datacenter fault of dc2 takes dc2, and none ever touches a container outside the scope or without the target label', async () => {
  for (const kind of ['lose-datacenter', 'partition-datacenter', 'empty-datacenter']) {
    for (const datacenter of ['dc1', 'dc2']) {
      const applied = await apply({ action: kind, datacenter });
      await undoAll(applied);
      const names = touched(applied.engine);
      assert.ok(names.length > 0, `${kind} ${datacenter} did something`);
      for (const name of names) {
        assert.ok(!UNTOUCHABLE.includes(name), `${kind} ${datacenter} touched ${name}`);
        const own = datacenter === 'dc1' ? ['consul', 'hello-1', 'hello-2'] : ['consul-dc2', 'hello-dc2-1', 'hello-dc2-2'];
        assert.ok(own.includes(name), `${kind} ${datacenter} touched ${name}, of another datacenter`);
      }
    }
  }
});

test('a datacenter fault steps aside (blast radius) before anything changes, and fails on a datacenter with no target', async () => {
  const engine = multiDc();
  await assert.rejects(apply({ action: 'lose-datacenter' }, { engine, keepAlive: 3 }), (error: Error) => {
    assert.ok(error instanceof SkippedStep);
    assert.equal(error.message, 'blast radius: 2 hello instance(s) available outside dc1, at least 3 must stay untouched');
    return true;
  });
  await assert.rejects(apply({ action: 'empty-datacenter' }, { engine, underFault: new Set(['hello-2']) }), (error: Error) => {
    assert.ok(error instanceof SkippedStep);
    assert.equal(error.message, 'blast radius: another fault of this run holds a container of dc1');
    return true;
  });
  await assert.rejects(
    apply({ action: 'partition-datacenter', datacenter: 'dc3' }, { engine }),
    /^Error: no running consul or hello container labelled grpc-consul-lab\.datacenter=dc3 in this scope$/,
  );
  assert.deepEqual(engine.calls, [], 'nothing changed');
});

test('a lose-datacenter that fails halfway has its undo registered already: rolled back as far as it got', async () => {
  const engine = multiDc();
  const { context, undos } = contextOn(engine);
  const docker = engine.docker();
  // hello-2 refuses to stop (Docker answers an error): the step fails after stopping the others.
  const original = docker.getContainer.bind(docker);
  docker.getContainer = ((id: string) => {
    const container = original(id);
    if (id === 'hello-2') return { ...container, stop: async () => Promise.reject(new Error('Docker said no')) };
    return container;
  }) as typeof docker.getContainer;
  const driver = new DockerDriver(composeScope('lab'), docker, 'netfault:test');
  const action = actionSchema.parse({ action: 'lose-datacenter' });
  await assert.rejects(faultKindOf(action).apply({ action, pick: 0 }, { ...context, driver }), /Docker said no/);
  assert.deepEqual(running(engine), ['hello-2', 'consul-dc2', 'hello-dc2-1', 'hello-dc2-2']);
  assert.equal(undos.length, 1);
  await undos[0]?.run();
  assert.deepEqual(running(engine).length, 6);
});

test('the datacenter kinds say what they take out in the plan, default to dc1, and take a datacenter name only', () => {
  const describe = (step: Record<string, unknown>): string => {
    const action = actionSchema.parse(step);
    return faultKindOf(action).describe(action);
  };
  assert.equal(describe({ action: 'lose-datacenter' }), 'lose datacenter dc1 (its Consul and instances stopped) for 15000 ms');
  assert.equal(
    describe({ action: 'partition-datacenter', datacenter: 'dc2', duration: '20s' }),
    'partition datacenter dc2 (every packet of its containers dropped) for 20000 ms',
  );
  assert.equal(describe({ action: 'empty-datacenter' }), 'empty datacenter dc1 (its instances stopped, its Consul up) for 15000 ms');
  const action = actionSchema.parse({ action: 'empty-datacenter', datacenter: 'dc2' });
  assert.equal(faultKindOf(action).datacenterOf?.(action), 'dc2');
  assert.throws(() => actionSchema.parse({ action: 'lose-datacenter', datacenter: 'DC 1' }), /a datacenter name as Consul writes one/);
});

test('make chaos --dry-run of each shipped datacenter scenario prints its plan and changes nothing', () => {
  for (const [name, line] of [
    ['lose-datacenter', '#1 lose datacenter dc1 (its Consul and instances stopped) for 15000 ms'],
    ['partition-datacenter', '#1 partition datacenter dc1 (every packet of its containers dropped) for 15000 ms'],
    ['empty-datacenter', '#1 empty datacenter dc1 (its instances stopped, its Consul up) for 15000 ms'],
  ] as const) {
    assertDryRunPlans(name, line);
  }
});

test("a one-instance fault on a multi-dc stack hits dc1's instances, the ones the client calls, never dc2's in reserve", async () => {
  const victims = new Set<string>();
  for (const target of ['random', 'oldest', 'newest'] as const) {
    for (let pick = 0; pick < 6; pick += 1) {
      const engine = multiDc();
      const action = actionSchema.parse({ action: 'cpu-starve', target, duration: '5s' });
      const outcome = await faultKindOf(action).apply({ action, pick }, contextOn(engine).context);
      for (const victim of outcome.targets) victims.add(victim);
    }
  }
  assert.deepEqual([...victims].sort(), ['HelloService-hello-1-50051', 'HelloService-hello-2-50051']);
});
