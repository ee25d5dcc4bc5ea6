import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readStackFacts } from '../scenario/preconditions.js';
import { actionSchema } from '../scenario/schema.js';
import { assertDryRunPlans } from '../test-support/dry-run.js';
import { FakeEngine, type FakeVolume } from '../test-support/fake-engine.js';
import { keepingUndos, labDriver } from '../test-support/step-context.js';
import { CONSUL_DATA_DIR } from './disk-full.js';
import type { StepContext, StepOutcome, Undo } from './fault-kind.js';
import { faultKindOf } from './registry.js';

/**
 * disk-full through the real DockerDriver on an engine in memory
 * (test-support/fake-engine.ts): it fills only a sized volume of the stack
 * at Consul's data directory, reads it back full and then free, and refuses
 * anything else before it changes a thing.
 */
const TARGET = { 'grpc-consul-lab.chaos-target': 'true', 'com.docker.compose.project': 'lab' };
const MiB = 2 ** 20;
const SIZED = {
  driver: 'local',
  options: { type: 'tmpfs', device: 'tmpfs', o: 'size=64m,mode=1777' },
  sizeBytes: 64 * MiB,
  usedBytes: 4 * MiB,
};

/** make up CONSUL_DATA_SIZE=64m's stack as the runner sees it; `volume` changes Consul's data volume. */
function lab(volume: Partial<Omit<FakeVolume, 'fillerBytes'>> = {}): { engine: FakeEngine; data: FakeVolume } {
  const engine = new FakeEngine();
  engine.add('consul', { ...TARGET, 'grpc-consul-lab.role': 'consul' });
  for (const id of ['hello-1', 'hello-2', 'hello-3']) engine.add(id, { ...TARGET, 'grpc-consul-lab.role': 'hello' });
  const data = engine.addVolume('consul', CONSUL_DATA_DIR, {
    name: 'lab_consul-data',
    labels: { 'com.docker.compose.project': 'lab' },
    ...SIZED,
    ...volume,
  });
  return { engine, data };
}

async function apply(engine: FakeEngine): Promise<{ outcome: StepOutcome; undos: Undo[]; context: StepContext }> {
  const { context, undos } = keepingUndos({ driver: labDriver(engine), keepAlive: 1, underFault: new Set(), sleep: async () => undefined });
  const action = actionSchema.parse({ action: 'disk-full', duration: '15s' });
  const outcome = await faultKindOf(action).apply({ action, pick: 0 }, context);
  return { outcome, undos, context };
}

test("disk-full fills the Consul server's sized data volume to its last byte, and its undo empties it again", async () => {
  const { engine, data } = lab();
  const { outcome, undos, context } = await apply(engine);
  assert.deepEqual(outcome.targets, ['consul']);
  assert.deepEqual(engine.calls, ['fill lab_consul-data'], 'only the volume was written; no container touched');
  assert.equal(data.fillerBytes, 60 * MiB);
  assert.deepEqual(await outcome.proof(), {
    observed: "consul's data directory: 0.0 MiB of 64.0 MiB free, the filler takes 60.0 MiB",
    ok: true,
  });
  assert.ok(context.underFault.has('consul'), 'held: no other step of the run takes this server');

  assert.equal(undos.length, 1, 'one undo, registered before it acted');
  const [undo] = undos;
  await undo?.run();
  assert.deepEqual(engine.calls, ['fill lab_consul-data', 'empty lab_consul-data']);
  assert.deepEqual(await undo?.proof(), { observed: "consul's data directory: 60.0 MiB of 64.0 MiB free, no filler", ok: true });
  assert.ok(!context.underFault.has('consul'));
});

test('the read-backs say so when the volume is not full, or the filler is still there', async () => {
  const { engine, data } = lab();
  const { outcome, undos } = await apply(engine);
  data.fillerBytes = 30 * MiB;
  assert.equal((await outcome.proof()).ok, false, 'room left: not full');
  assert.equal((await undos[0]?.proof())?.ok, false, 'the filler is there: not undone');
});

test('disk-full refuses a data directory on the host disk, or a volume of another stack, and changes nothing', async () => {
  for (const [what, volume] of [
    ['an ordinary volume', { driver: 'local', options: {} }],
    ['a tmpfs with no size', { options: { type: 'tmpfs', device: 'tmpfs', o: 'mode=1777' } }],
    ['a tmpfs sized in percent of memory', { options: { type: 'tmpfs', device: 'tmpfs', o: 'size=10%' } }],
    ['a sized volume of another project', { labels: { 'com.docker.compose.project': 'other' } }],
  ] as const) {
    const { engine } = lab(volume);
    await assert.rejects(
      apply(engine),
      {
        message:
          "disk-full fills only a data directory on a filesystem of its own size, so that it cannot fill this machine's disk; consul's /consul/data is not one (make up CONSUL_DATA_SIZE=64m)",
      },
      what,
    );
    assert.deepEqual(engine.calls, [], `${what}: nothing changed`);
  }
});

test("the stack's facts count the running Consul servers whose data volume is sized", async () => {
  assert.equal((await readStackFacts(labDriver(lab().engine), true)).sizedConsulData, 1);
  assert.equal((await readStackFacts(labDriver(lab({ options: {} }).engine), true)).sizedConsulData, 0);
  const stopped = lab();
  stopped.engine.get('consul').running = false;
  assert.equal((await readStackFacts(labDriver(stopped.engine), true)).sizedConsulData, 0, 'a stopped server is not counted');
});

test('make chaos --dry-run of the shipped disk-full scenario prints its plan, draws nothing, and changes nothing', () => {
  assertDryRunPlans('disk-full', "#1 fill the Consul server's data directory for 20000 ms\n");
});
