import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type TargetContainer, tmpfsSizeBytes } from '../docker/docker-driver.js';
import { parseScenario } from '../scenario/load-scenario.js';
import { readStackFacts } from '../scenario/preconditions.js';
import { actionSchema } from '../scenario/schema.js';
import { assertDryRunPlans } from '../test-support/dry-run.js';
import { FakeEngine, type FakeVolume } from '../test-support/fake-engine.js';
import { keepingUndos, labDriver } from '../test-support/step-context.js';
import { CONSUL_DATA_DIR } from './consul-servers.js';
import type { StepContext, StepOutcome, Undo } from './fault-kind.js';
import { faultKindOf } from './registry.js';

/**
 * disk-full through the real DockerDriver on an engine in memory
 * (test-support/fake-engine.ts, whose volume helper insists on nobody's uid,
 * the file named in $FILE and the tmpfs guard first): it fills only a sized
 * volume of the stack at Consul's data directory, reads it back full and then
 * free, and refuses anything else before it changes a thing.
 */
const TARGET = { 'grpc-consul-lab.chaos-target': 'true', 'com.docker.compose.project': 'lab' };
const MiB = 2 ** 20;
const SIZED = {
  driver: 'local',
  options: { type: 'tmpfs', device: 'tmpfs', o: 'size=64m,mode=1777' },
  sizeBytes: 64 * MiB,
  usedBytes: 4 * MiB,
};
const REFUSAL =
  "disk-full fills only a data directory on a sized volume of this stack, so that it cannot fill this machine's disk or memory; consul's /consul/data is not on one (make up CONSUL_DATA_SIZE=64m)";

type VolumeSetting = Partial<Omit<FakeVolume, 'fillerBytes'>>;

/** make up CONSUL_DATA_SIZE=64m's stack as the runner sees it; `volume` changes Consul's data volume, `mountType` how it is mounted. */
function lab(volume: VolumeSetting = {}, mountType = 'volume'): { engine: FakeEngine; data: FakeVolume } {
  const engine = new FakeEngine();
  engine.add('consul', { ...TARGET, 'grpc-consul-lab.role': 'consul' });
  for (const id of ['hello-1', 'hello-2', 'hello-3']) engine.add(id, { ...TARGET, 'grpc-consul-lab.role': 'hello' });
  const data = engine.addVolume(
    'consul',
    CONSUL_DATA_DIR,
    { name: 'lab_consul-data', labels: { 'com.docker.compose.project': 'lab' }, ...SIZED, ...volume },
    mountType,
  );
  return { engine, data };
}

interface Applied {
  readonly outcome: Promise<StepOutcome>;
  readonly undos: Undo[];
  readonly context: StepContext;
}

function apply(engine: FakeEngine): Applied {
  const { context, undos } = keepingUndos({ driver: labDriver(engine), keepAlive: 1, underFault: new Set(), sleep: async () => undefined });
  const action = actionSchema.parse({ action: 'disk-full', duration: '15s' });
  return { outcome: faultKindOf(action).apply({ action, pick: 0 }, context), undos, context };
}

test("disk-full fills the Consul server's sized data volume to its last byte, as nobody, and its undo empties it again", async () => {
  const { engine, data } = lab();
  const applied = apply(engine);
  const outcome = await applied.outcome;
  assert.deepEqual(outcome.targets, ['consul']);
  assert.deepEqual(engine.calls, ['fill lab_consul-data/.chaos-disk-full'], 'only the volume was written; no container touched');
  assert.equal(data.fillerBytes, 60 * MiB);
  assert.deepEqual(await outcome.proof(), {
    observed: "consul's data directory: 0.0 MiB of 64.0 MiB free, the filler takes 60.0 MiB",
    ok: true,
  });
  assert.ok(applied.context.underFault.has('consul'), 'held: no other step of the run takes this server');

  assert.equal(applied.undos.length, 1);
  const [undo] = applied.undos;
  await undo?.run();
  assert.deepEqual(engine.calls, ['fill lab_consul-data/.chaos-disk-full', 'empty lab_consul-data/.chaos-disk-full']);
  assert.deepEqual(await undo?.proof(), { observed: "consul's data directory: 60.0 MiB of 64.0 MiB free, no filler", ok: true });
  assert.ok(!applied.context.underFault.has('consul'));
});

test('on three Consul servers disk-full fills the first by name, whichever Docker made first', async () => {
  const engine = new FakeEngine();
  for (const [id, created] of [
    ['lab-consul-3-1', '2026-11-30T00:00:00.100Z'],
    ['lab-consul-1', '2026-11-30T00:00:00.300Z'],
    ['lab-consul-2-1', '2026-11-30T00:00:00.200Z'],
  ] as const) {
    engine.add(id, { ...TARGET, 'grpc-consul-lab.role': 'consul' }).created = created;
    engine.addVolume(id, CONSUL_DATA_DIR, { name: `${id}-data`, labels: { 'com.docker.compose.project': 'lab' }, ...SIZED });
  }
  for (const id of ['hello-1', 'hello-2']) engine.add(id, { ...TARGET, 'grpc-consul-lab.role': 'hello' });
  const outcome = await apply(engine).outcome;
  assert.deepEqual(outcome.targets, ['lab-consul-1']);
  assert.deepEqual(engine.calls, ['fill lab-consul-1-data/.chaos-disk-full']);
});

test('the read-backs say so when the volume is not full, or the filler is still there', async () => {
  const { engine, data } = lab();
  const applied = apply(engine);
  const outcome = await applied.outcome;
  data.fillerBytes = 30 * MiB;
  assert.equal((await outcome.proof()).ok, false, 'room left: not full');
  assert.equal((await applied.undos[0]?.proof())?.ok, false, 'the filler is there: not undone');
});

test('a fill that fails has its undo registered already: the step fails with what dd said, and the undo runs', async () => {
  const { engine } = lab({ ddRefused: true });
  const applied = apply(engine);
  await assert.rejects(
    applied.outcome,
    /filling volume lab_consul-data exited 1: dd: failed to open '\/volume\/\.chaos-disk-full': Permission denied/,
  );
  assert.equal(applied.undos.length, 1, 'registered before it wrote');
  await applied.undos[0]?.run();
  assert.deepEqual(engine.calls, ['empty lab_consul-data/.chaos-disk-full']);
});

test('disk-full refuses a data directory that is not a sized volume of this stack, and changes nothing', async () => {
  for (const [what, volume, mountType] of [
    ['an ordinary volume', { options: {} }, 'volume'],
    ['a bind mount', { driver: 'local', options: { type: 'none', o: 'bind,size=64m', device: '/srv' } }, 'volume'],
    ['a sized tmpfs mounted as a bind', {}, 'bind'],
    ['a volume of another driver', { driver: 'nfs' }, 'volume'],
    ['a tmpfs with no size', { options: { type: 'tmpfs', device: 'tmpfs', o: 'mode=1777' } }, 'volume'],
    ['a tmpfs of size 0 (no limit at all)', { options: { type: 'tmpfs', device: 'tmpfs', o: 'size=0' } }, 'volume'],
    ['a tmpfs whose last size is 0', { options: { type: 'tmpfs', device: 'tmpfs', o: 'size=64m,size=0' } }, 'volume'],
    ['a tmpfs sized in percent of memory', { options: { type: 'tmpfs', device: 'tmpfs', o: 'size=10%' } }, 'volume'],
    ['a tmpfs of more than 1 GiB', { options: { type: 'tmpfs', device: 'tmpfs', o: 'size=2g' } }, 'volume'],
    ['a sized volume of another project', { labels: { 'com.docker.compose.project': 'other' } }, 'volume'],
  ] as const) {
    const { engine } = lab(volume, mountType);
    const applied = apply(engine);
    await assert.rejects(applied.outcome, { message: REFUSAL }, what);
    assert.deepEqual(engine.calls, [], `${what}: nothing changed`);
    assert.equal(applied.undos.length, 0, `${what}: nothing to undo`);
  }
});

test('the helper checks its filesystem before it writes: a volume that is no tmpfs by then is not filled', async () => {
  // Docker's word and the filesystem disagree, as when the volume went and the helper's mount made it again on the host's disk.
  const { engine } = lab({ filesystem: 'ext2/ext3' });
  const applied = apply(engine);
  await assert.rejects(applied.outcome, /filling volume lab_consul-data exited 3: \/volume is ext2\/ext3 .* not a tmpfs/);
  assert.deepEqual(engine.calls, [], 'nothing written');
});

test('the volume helpers take a plain file name only: a pattern or a path is refused before any helper runs', async () => {
  const { engine } = lab();
  const driver = labDriver(engine);
  const volume = await driver.sizedVolumeAt((await driver.targets('consul'))[0] as TargetContainer, CONSUL_DATA_DIR);
  assert.ok(volume);
  for (const file of ['*', '../node-id', 'raft/wal', '', 'a b']) {
    await assert.rejects(driver.removeFromVolume(volume, file), { message: `refused: ${JSON.stringify(file)} is not a plain file name` });
  }
  assert.deepEqual(engine.calls, []);
});

test('tmpfs sizes as the kernel reads a mount: the last size= counts; 0, a percentage or nr_blocks are no size', () => {
  assert.equal(tmpfsSizeBytes('size=64m,mode=1777'), 64 * MiB);
  assert.equal(tmpfsSizeBytes('mode=1777,size=1g'), 2 ** 30);
  assert.equal(tmpfsSizeBytes('size=512k'), 512 * 1024);
  assert.equal(tmpfsSizeBytes('size=4096'), 4096);
  assert.equal(tmpfsSizeBytes('size=0,size=16m'), 16 * MiB);
  for (const options of ['', 'mode=1777', 'size=0', 'size=00m', 'size=64m,size=0', 'size=50%', 'size=64m,nr_blocks=10', 'size=1t']) {
    assert.equal(tmpfsSizeBytes(options), undefined, options);
  }
});

test("the stack's facts count the running Consul servers on a sized volume, and read volumes only for a scenario that needs them", async () => {
  const needing = parseScenario('title: t\nmethod:\n  - action: disk-full\n', 't.yaml');
  const other = parseScenario('title: t\nmethod:\n  - action: restart-consul\n', 't.yaml');
  assert.equal((await readStackFacts(labDriver(lab().engine), true, needing)).sizedConsulData, 1);
  assert.equal((await readStackFacts(labDriver(lab({ options: {} }).engine), true, needing)).sizedConsulData, 0);
  const stopped = lab();
  stopped.engine.get('consul').running = false;
  assert.equal((await readStackFacts(labDriver(stopped.engine), true, needing)).sizedConsulData, 0, 'a stopped server is not counted');
  const { engine } = lab();
  engine.volumeInspections = 0;
  assert.equal((await readStackFacts(labDriver(engine), true, other)).sizedConsulData, 0);
  assert.equal(engine.volumeInspections, 0, 'a run with no disk-full step reads no volume');
  // A data volume that is gone (named by the mount, removed since) is no sized volume, not an error.
  engine.get('consul').mounts.splice(0, 1, { destination: CONSUL_DATA_DIR, volume: 'gone', type: 'volume' });
  assert.equal((await readStackFacts(labDriver(engine), true, needing)).sizedConsulData, 0);
});

test('make chaos --dry-run of the shipped disk-full scenario prints its plan, draws nothing, and changes nothing', () => {
  assertDryRunPlans('disk-full', "#1 fill the Consul server's data directory for 20000 ms\n");
});
