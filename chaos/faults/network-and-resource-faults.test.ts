import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefusedTargetError, type TargetContainer } from '../docker/docker-driver.js';
import { parseScenario } from '../scenario/load-scenario.js';
import { unmetPrecondition } from '../scenario/preconditions.js';
import { actionSchema } from '../scenario/schema.js';
import { assertDryRunPlans } from '../test-support/dry-run.js';
import { FakeEngine } from '../test-support/fake-engine.js';
import { keepingUndos, labDriver } from '../test-support/step-context.js';
import type { StepContext, StepOutcome, Undo } from './fault-kind.js';
import { faultKindOf } from './registry.js';

/**
 * packet-loss, cpu-starve and memory-pressure through the real DockerDriver on
 * an engine in memory (test-support/fake-engine.ts, which merges a
 * `docker update` as moby does and lists iptables rules as iptables 1.8
 * does): what each changes on the drawn instance only, what its read-backs
 * see, that its undo sets back exactly what was there, and what it refuses.
 */
const TARGET = { 'grpc-consul-lab.chaos-target': 'true', 'com.docker.compose.project': 'lab' };
const MiB = 2 ** 20;

/** make up's stack as the runner sees it: Consul, three instances, and the client, which is no target. */
function lab(): FakeEngine {
  const engine = new FakeEngine();
  engine.add('consul', { ...TARGET, 'grpc-consul-lab.role': 'consul' });
  for (const id of ['hello-1', 'hello-2', 'hello-3']) engine.add(id, { ...TARGET, 'grpc-consul-lab.role': 'hello' });
  engine.add('client', { 'com.docker.compose.project': 'lab' });
  return engine;
}

interface Applied {
  readonly engine: FakeEngine;
  readonly outcome: StepOutcome;
  readonly undos: Undo[];
  readonly context: StepContext;
}

/** Applies one step to the oldest instance (hello-1) as the runner would, its undos collected. */
async function apply(step: Record<string, unknown>, engine = lab()): Promise<Applied> {
  const { context, undos } = keepingUndos({ driver: labDriver(engine), keepAlive: 1, underFault: new Set(), sleep: async () => undefined });
  const action = actionSchema.parse({ target: 'oldest', duration: '15s', ...step });
  const outcome = await faultKindOf(action).apply({ action, pick: 0 }, context);
  return { engine, outcome, undos, context };
}

async function undo({ undos }: Applied): Promise<Undo> {
  assert.equal(undos.length, 1, 'one undo, registered before it acted');
  const [only] = undos as [Undo];
  await only.run();
  return only;
}

test('packet-loss drops some packets of one instance, its rules told from partition’s, read back with the probability the kernel keeps', async () => {
  const engine = lab();
  engine.get('hello-1').dropping = true; // partition's rules, there already: left alone
  const applied = await apply({ action: 'packet-loss', probability: 0.3 }, engine);
  assert.deepEqual(engine.calls, ['lose hello-1 0.3']);
  assert.deepEqual(applied.outcome.targets, ['HelloService-hello-1-50051']);
  assert.deepEqual(await applied.outcome.proof(), {
    observed: 'hello-1: INPUT drops with p=0.29999999981 and OUTPUT drops with p=0.29999999981',
    ok: true,
  });
  assert.deepEqual([...applied.context.underFault], ['hello-1'], 'held until undone');
  assert.equal((await applied.undos[0]?.proof())?.ok, false, 'not undone before its undo ran');

  const undone = await undo(applied);
  assert.deepEqual(engine.calls, ['lose hello-1 0.3', 'stop losing hello-1']);
  assert.deepEqual(await undone.proof(), { observed: 'hello-1: no packet-loss rule', ok: true });
  assert.equal((await applied.outcome.proof()).ok, false, 'the applied read-back no longer holds');
  assert.equal((await labDriver(engine).droppingRules(await labDriver(engine).describe('hello-1'))).length, 2, "partition's rules kept");
  assert.equal(applied.context.underFault.size, 0);
});

test('packet-loss reads back unconfirmed with another probability, or with none after a restart', async () => {
  const applied = await apply({ action: 'packet-loss', probability: 0.5 });
  applied.engine.get('hello-1').losing = 0.4;
  assert.deepEqual(await applied.outcome.proof(), {
    observed: 'hello-1: INPUT drops with p=0.39999999991 and OUTPUT drops with p=0.39999999991',
    ok: false,
  });
  // Restarted: a fresh namespace holds no rule, which is as good as undone but not applied.
  applied.engine.get('hello-1').running = false;
  assert.deepEqual(await applied.outcome.proof(), { observed: 'hello-1 exited: no namespace, no packet-loss rule', ok: false });
  assert.equal((await applied.undos[0]?.proof())?.ok, true);
});

test('cpu-starve throttles an instance with no CPU limit through a CFS quota, and its undo lifts it (-1: Docker takes no zero)', async () => {
  const applied = await apply({ action: 'cpu-starve' });
  const { engine, outcome } = applied;
  assert.deepEqual(engine.calls, ['update hello-1 {"CpuPeriod":100000,"CpuQuota":5000}']);
  assert.deepEqual(await outcome.proof(), {
    observed: 'hello-1: 0.05 of a core (NanoCpus 0, CpuQuota 5000, CpuPeriod 100000)',
    ok: true,
  });
  assert.match(
    outcome.detail,
    /^hello-1 \(10\.0\.0\.3:50051\) limited to 0\.05 of a core, from no CPU limit \(NanoCpus 0, CpuQuota 0, CpuPeriod 0\)$/,
  );
  const undone = await undo(applied);
  assert.deepEqual(engine.calls.at(-1), 'update hello-1 {"CpuQuota":-1}');
  assert.deepEqual(await undone.proof(), { observed: 'hello-1: no CPU limit (NanoCpus 0, CpuQuota -1, CpuPeriod 100000)', ok: true });

  // Once more on the same container: the same mechanism, no conflict, the same end.
  const again = await apply({ action: 'cpu-starve', cpus: 0.2 }, engine);
  assert.deepEqual(engine.calls.at(-1), 'update hello-1 {"CpuPeriod":100000,"CpuQuota":20000}');
  assert.equal((await again.outcome.proof()).ok, true);
  assert.equal((await (await undo(again)).proof()).ok, true);
});

test('cpu-starve of an instance limited with --cpus sets NanoCpus, and its undo sets back exactly the NanoCpus it had', async () => {
  const engine = lab();
  Object.assign(engine.get('hello-1').limits, { NanoCpus: 1_500_000_000 });
  const applied = await apply({ action: 'cpu-starve', cpus: 0.1 }, engine);
  assert.deepEqual(engine.calls, ['update hello-1 {"NanoCpus":100000000}']);
  assert.deepEqual(await applied.outcome.proof(), {
    observed: 'hello-1: 0.1 of a core (NanoCpus 100000000, CpuQuota 0, CpuPeriod 0)',
    ok: true,
  });
  const undone = await undo(applied);
  assert.deepEqual(engine.get('hello-1').limits, {
    NanoCpus: 1_500_000_000,
    CpuQuota: 0,
    CpuPeriod: 0,
    Memory: 256 * MiB,
    MemorySwap: 512 * MiB,
  });
  assert.deepEqual(await undone.proof(), { observed: 'hello-1: 1.5 of a core (NanoCpus 1500000000, CpuQuota 0, CpuPeriod 0)', ok: true });
});

test('memory-pressure lowers the limit, swap included, and its undo sets back exactly the limit and swap it had', async () => {
  const applied = await apply({ action: 'memory-pressure', memory: '48m' });
  const { engine, outcome } = applied;
  assert.deepEqual(engine.calls, [`update hello-1 {"Memory":${48 * MiB},"MemorySwap":${48 * MiB}}`]);
  assert.deepEqual(await outcome.proof(), { observed: 'hello-1 running: memory 48 MiB, with swap 48 MiB', ok: true });
  assert.equal(outcome.detail, 'hello-1 (10.0.0.3:50051) limited to 48 MiB, swap included, from memory 256 MiB, with swap 512 MiB');
  const undone = await undo(applied);
  assert.deepEqual(engine.calls.at(-1), `update hello-1 {"Memory":${256 * MiB},"MemorySwap":${512 * MiB}}`);
  assert.deepEqual(await undone.proof(), { observed: 'hello-1 running: memory 256 MiB, with swap 512 MiB', ok: true });
});

test('memory-pressure below what the instance uses: OOM-killed, read back so; the undo sets the limit back, then starts it, and says why', async () => {
  const applied = await apply({ action: 'memory-pressure', memory: '24m' });
  const { engine, outcome } = applied;
  assert.deepEqual(engine.calls, [`update hello-1 {"Memory":${24 * MiB},"MemorySwap":${24 * MiB}}`, 'oom-kill hello-1']);
  assert.deepEqual(await outcome.proof(), { observed: 'hello-1 exited (OOM-killed): memory 24 MiB, with swap 24 MiB', ok: true });
  assert.equal((await applied.undos[0]?.proof())?.ok, false);
  const undone = await undo(applied);
  assert.deepEqual(
    engine.calls.slice(2),
    [`update hello-1 {"Memory":${256 * MiB},"MemorySwap":${512 * MiB}}`, 'start hello-1'],
    'the limit first',
  );
  assert.deepEqual(await undone.proof(), {
    observed: 'hello-1 running: memory 256 MiB, with swap 512 MiB; it was OOM-killed under 24 MiB, and started again',
    ok: true,
  });
});

test('memory-pressure refused by the kernel (cgroup v1) fails in one line naming the container and the numbers', async () => {
  const engine = lab();
  engine.get('hello-1').belowUsage = 'refuse';
  await assert.rejects(apply({ action: 'memory-pressure', memory: '24m' }, engine), (error: Error) => {
    assert.equal(
      error.message,
      'memory-pressure: Docker refused 24 MiB for hello-1 (it uses 38 MiB, its limit 256 MiB): Cannot update container hello-1: failed to write 25165824 to memory.limit_in_bytes: device or resource busy',
    );
    return true;
  });
  assert.deepEqual(engine.calls, []);
  assert.deepEqual(engine.get('hello-1').limits.Memory, 256 * MiB);
});

test('memory-pressure refuses, before anything changes, a limit that is none or no lower than the one the instance has', async () => {
  const engine = lab();
  await assert.rejects(
    apply({ action: 'memory-pressure', memory: '256m' }, engine),
    /^Error: memory-pressure: 256 MiB is no pressure on hello-1, whose limit is 256 MiB$/,
  );
  Object.assign(engine.get('hello-1').limits, { Memory: 0, MemorySwap: 0 });
  await assert.rejects(
    apply({ action: 'memory-pressure' }, engine),
    /^Error: memory-pressure: hello-1 has no memory limit, and docker update cannot take one away again: it could not be undone$/,
  );
  assert.deepEqual(engine.calls, []);
});

test('a container that is not a chaos target of the scope is refused by every new driver call, and nothing is changed', async () => {
  const engine = lab();
  const driver = labDriver(engine);
  const client = { containerId: 'client', name: 'client' } as TargetContainer;
  for (const call of [
    () => driver.losePackets(client, 0.3),
    () => driver.stopLosingPackets(client),
    () => driver.packetLossRules(client),
    () => driver.limits(client),
    () => driver.updateLimits(client, { NanoCpus: 50_000_000 }),
    () => driver.memoryUsage(client),
    () => driver.startToxiproxy(client),
    () => driver.redirectToProxy(client, { port: 50051, proxyPort: 8475 }),
    () => driver.removeRedirect(client, { port: 50051, proxyPort: 8475 }),
    () => driver.redirectsToProxy(client, { port: 50051, proxyPort: 8475 }),
    () => driver.connectionsTo(client, 50051),
  ]) {
    await assert.rejects(call(), (error: Error) => {
      assert.ok(error instanceof RefusedTargetError);
      assert.equal(
        error.message,
        'refused: container client does not carry grpc-consul-lab.chaos-target=true and com.docker.compose.project=lab',
      );
      return true;
    });
  }
  assert.deepEqual(engine.calls, []);
});

test('bad input in a scenario file is one line naming the field and what it takes', () => {
  const step = (fields: string): string => {
    try {
      parseScenario(`title: t\nmethod:\n  - action: ${fields}\n    duration: 15s\n`, 'bad.yaml');
    } catch (error) {
      return (error as Error).message;
    }
    return 'accepted';
  };
  const probability = 'a probability of losing each packet, above 0 and at most 1, such as 0.3';
  const cpus = 'a share of one core from 0.01 (Docker takes no less) to 1, such as 0.05';
  const memory = 'a memory size of at least 6m (the smallest limit Docker takes), such as "48m"';
  const delay = 'a delay from 1ms to 1m, such as "200ms"';
  const aDuration = 'a duration such as "500ms", "5s" or "1m"';
  const jitter = 'a spread of the delay from 0ms up to the delay itself, such as "50ms"';
  const rate = 'a rate in KB/s from 1 to 1000000, such as 5';
  const offset = 'an offset of the clock such as "+10m" or "-2d" (s, m, h or d), at most 365d';
  const resetAfter = 'how long after its start a connection is reset, from 0ms to 1m, such as "0ms"';
  for (const [fields, says] of [
    ['packet-loss\n    probability: 0', `bad.yaml:4: method.0.probability: ${probability}`],
    ['packet-loss\n    probability: 1.5', `bad.yaml:4: method.0.probability: ${probability}`],
    ['packet-loss\n    probability: 30%', `bad.yaml:4: method.0.probability: ${probability}`],
    ['cpu-starve\n    cpus: 0', `bad.yaml:4: method.0.cpus: ${cpus}`],
    ['cpu-starve\n    cpus: 2', `bad.yaml:4: method.0.cpus: ${cpus}`],
    ['memory-pressure\n    memory: 5m', `bad.yaml:4: method.0.memory: ${memory}`],
    ['memory-pressure\n    memory: 48MB', `bad.yaml:4: method.0.memory: ${memory}`],
    ['memory-pressure\n    memory: 48', `bad.yaml:4: method.0.memory: ${memory}`],
    ['latency\n    delay: 0ms', `bad.yaml:4: method.0.delay: ${delay}`],
    ['latency\n    delay: 2m', `bad.yaml:4: method.0.delay: ${delay}`],
    ['latency\n    delay: 200', `bad.yaml:4: method.0.delay: ${aDuration}`],
    ['latency\n    delay: 100ms\n    delayJitter: 150ms', `bad.yaml:5: method.0.delayJitter: ${jitter}`],
    ['bandwidth\n    rate: 0', `bad.yaml:4: method.0.rate: ${rate}`],
    ['bandwidth\n    rate: 1.5', `bad.yaml:4: method.0.rate: ${rate}`],
    ['reset-peer\n    after: 2m', `bad.yaml:4: method.0.after: ${resetAfter}`],
    ['clock-skew\n    offset: 10m', `bad.yaml:4: method.0.offset: ${offset}`],
    ['clock-skew\n    offset: +2y', `bad.yaml:4: method.0.offset: ${offset}`],
    ['clock-skew\n    offset: +400d', `bad.yaml:4: method.0.offset: ${offset}`],
    ['blackhole\n    on: server', `bad.yaml:4: method.0.on: Invalid option: expected one of "instance"|"consul"`],
    ['blackhole\n    delay: 1s', 'bad.yaml:3: method.0: Unrecognized key: "delay"'],
  ] as const) {
    assert.equal(step(fields), says, fields);
    assert.doesNotMatch(says, /\n/);
  }
  assert.equal(step('packet-loss\n    probability: 1'), 'accepted');
  assert.equal(step('cpu-starve\n    cpus: 0.01'), 'accepted');
  assert.equal(step('latency\n    delay: 1m\n    delayJitter: 1m'), 'accepted');
  assert.equal(step('bandwidth\n    rate: 1'), 'accepted');
  assert.equal(step('reset-peer'), 'accepted');
  assert.equal(step('blackhole'), 'accepted');
  assert.equal(step('latency\n    on: consul'), 'accepted');
  assert.equal(step('clock-skew\n    offset: "-2d"'), 'accepted');
  assert.equal(step('memory-pressure\n    memory: 6m'), 'accepted');
});

test('each kind says in the plan what it does, with its defaults, and needs an instance beyond keepAlive', () => {
  const describe = (step: Record<string, unknown>): string => {
    const action = actionSchema.parse({ duration: '15s', ...step });
    return faultKindOf(action).describe(action);
  };
  assert.equal(describe({ action: 'packet-loss' }), 'drop each packet of random instance with probability 0.3 for 15000 ms');
  assert.equal(describe({ action: 'cpu-starve', target: 'newest' }), 'starve newest instance to 0.05 of a core for 15000 ms');
  assert.equal(describe({ action: 'memory-pressure', memory: '1.5g' }), 'squeeze random instance into 1536 MiB of memory for 15000 ms');
  assert.equal(describe({ action: 'memory-pressure' }), 'squeeze random instance into 64 MiB of memory for 15000 ms');
  const one = { swarm: false, hello: 1, consul: 1, consulApi: true, datacenters: {}, sizedConsulData: 0 };
  for (const kind of ['packet-loss', 'cpu-starve', 'memory-pressure']) {
    const scenario = parseScenario(`title: t\nmethod:\n  - action: ${kind}\n    duration: 1s\n`, 't.yaml');
    assert.equal(
      unmetPrecondition(scenario, one),
      `${kind} needs more running hello instances than keepAlive (1) leaves untouched; this stack has 1`,
    );
    assert.equal(unmetPrecondition(scenario, { ...one, hello: 3 }), undefined);
  }
  const onSwarm = parseScenario('title: t\nmethod:\n  - action: memory-pressure\n    duration: 1s\n', 't.yaml');
  assert.match(unmetPrecondition(onSwarm, { ...one, hello: 3, swarm: true }) ?? '', /^memory-pressure cannot run on a Swarm stack/);
});

test('make chaos --dry-run of each shipped scenario prints its plan and changes nothing', () => {
  for (const [name, line] of [
    ['packet-loss', '#1 drop each packet of random instance with probability 0.3 for 15000 ms'],
    ['cpu-starve', '#1 starve random instance to 0.05 of a core for 15000 ms'],
    ['memory-pressure', '#1 squeeze random instance into 64 MiB of memory for 15000 ms'],
  ] as const) {
    assertDryRunPlans(name, line);
  }
});
