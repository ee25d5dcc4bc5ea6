import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseScenario } from './load-scenario.js';
import { formatPlan, planScenario } from './plan.js';
import { type StackFacts, stackFacts, unmetPrecondition } from './preconditions.js';

const scenario = (method: string, keepAlive = 1) => parseScenario(`title: t\nmethod:\n${method}\nkeepAlive: ${keepAlive}\n`, 'test.yaml');
const single: StackFacts = { swarm: false, hello: 3, consul: 1, consulApi: true, datacenters: {}, sizedConsulData: 0 };
const multiDc: StackFacts = {
  ...single,
  hello: 6,
  consul: 2,
  datacenters: { dc1: { hello: 3, consul: 1 }, dc2: { hello: 3, consul: 1 } },
};
const DATACENTER_KINDS = ['lose-datacenter', 'partition-datacenter', 'empty-datacenter'] as const;

test('every step that can apply on the stack: nothing to say', () => {
  assert.equal(unmetPrecondition(scenario('  - action: pause\n    duration: 1s\n  - action: restart-consul'), single), undefined);
  assert.equal(unmetPrecondition(scenario('  - action: kill-consul-leader'), { ...single, consul: 3 }), undefined);
  assert.equal(unmetPrecondition(scenario('  - action: disk-full'), { ...single, sizedConsulData: 1 }), undefined);
});

test('a step that cannot apply is named in one line, before anything changes', () => {
  for (const [method, stack, keepAlive, says] of [
    [
      '  - action: consul-quorum-loss',
      single,
      1,
      'consul-quorum-loss needs the 3 Consul servers of PROFILE=ha; this stack has 1 (make up PROFILE=ha)',
    ],
    [
      '  - action: pause\n    duration: 1s',
      { ...single, hello: 1 },
      1,
      'pause needs more running hello instances than keepAlive (1) leaves untouched; this stack has 1',
    ],
    ['  - action: slow\n    duration: 1s', { ...single, consulApi: false }, 1, "slow needs Consul's API (--consul-url)"],
    [
      '  - action: restart-consul',
      { ...single, consul: 0 },
      1,
      'restart-consul needs a running Consul container labelled as a chaos target; this stack has none',
    ],
    [
      '  - action: disk-full',
      single,
      1,
      "disk-full needs Consul's data directory on a sized volume of this stack, so that filling it cannot fill this machine's disk; this stack's is not on one (make up CONSUL_DATA_SIZE=64m)",
    ],
    ['  - action: replace-all', single, 1, 'replace-all needs keepAlive: 0 (it is 1)'],
    ['  - action: reschedule', single, 1, 'reschedule needs a Swarm stack: make swarm-up, then --stack NAME (make chaos ON=swarm)'],
    ['  - action: kill', { ...single, swarm: true }, 1, /^kill cannot run on a Swarm stack/],
  ] as const) {
    const unmet = unmetPrecondition(scenario(method, keepAlive), stack);
    if (typeof says === 'string') assert.equal(unmet, says);
    else assert.match(unmet ?? '', says);
  }
});

test("the stack's facts count running containers of each role", () => {
  const facts = stackFacts(
    [
      { role: 'hello', state: 'running' },
      { role: 'hello', state: 'exited' },
      { role: 'consul', state: 'running' },
    ],
    false,
    true,
    1,
  );
  assert.deepEqual(facts, { swarm: false, hello: 1, consul: 1, consulApi: true, datacenters: {}, sizedConsulData: 1 });
});

test("the stack's facts count running containers per datacenter label, and none without one", () => {
  const facts = stackFacts(
    [
      { role: 'consul', state: 'running', datacenter: 'dc1' },
      { role: 'hello', state: 'running', datacenter: 'dc1' },
      { role: 'hello', state: 'exited', datacenter: 'dc1' },
      { role: 'consul', state: 'running', datacenter: 'dc2' },
      { role: 'hello', state: 'running', datacenter: 'dc2' },
      { role: 'hello', state: 'running', datacenter: 'dc2' },
      { role: 'hello', state: 'running', datacenter: '' },
    ],
    false,
    true,
    0,
  );
  assert.deepEqual(facts.datacenters, { dc1: { hello: 1, consul: 1 }, dc2: { hello: 2, consul: 1 } });
  assert.equal(facts.hello, 4);
});

test('a datacenter fault on a stack without a second datacenter: one line that says what to start', () => {
  for (const kind of DATACENTER_KINDS) {
    const step = `  - action: ${kind}\n    duration: 15s`;
    assert.equal(unmetPrecondition(scenario(step), multiDc), undefined, `${kind} runs on PROFILE=multi-dc`);
    assert.equal(
      unmetPrecondition(scenario(step), single),
      `${kind} needs two datacenters, their containers labelled grpc-consul-lab.datacenter (make up PROFILE=multi-dc); this stack has none`,
    );
    const oneDatacenter = { ...single, datacenters: { dc1: { hello: 3, consul: 1 } } };
    assert.match(unmetPrecondition(scenario(step), oneDatacenter) ?? '', /this stack has only dc1$/);
    assert.match(unmetPrecondition(scenario(step), { ...multiDc, swarm: true }) ?? '', new RegExp(`^${kind} cannot run on a Swarm stack`));
  }
});

test('a datacenter fault names a datacenter with instances to take out, and leaves instances elsewhere', () => {
  const step = (datacenter: string) => `  - action: lose-datacenter\n    datacenter: ${datacenter}`;
  assert.equal(unmetPrecondition(scenario(step('dc2')), multiDc), undefined);
  assert.equal(
    unmetPrecondition(scenario(step('dc3')), multiDc),
    'lose-datacenter takes out datacenter dc3, which has no running hello instance on this stack (its datacenters: dc1, dc2)',
  );
  const dc2Empty = { ...multiDc, datacenters: { dc1: { hello: 3, consul: 1 }, dc2: { hello: 0, consul: 1 } } };
  assert.equal(
    unmetPrecondition(scenario(step('dc1'), 0), dc2Empty),
    'lose-datacenter of dc1 leaves no running hello instance in the other datacenters to answer the calls',
  );
  const dc2One = { ...multiDc, datacenters: { dc1: { hello: 3, consul: 1 }, dc2: { hello: 1, consul: 1 } } };
  assert.equal(unmetPrecondition(scenario(step('dc1'), 1), dc2One), undefined, 'keepAlive 1 is kept by the one left');
  assert.equal(
    unmetPrecondition(scenario(step('dc1'), 2), dc2One),
    'lose-datacenter of dc1 leaves 1 running hello instance(s) in the other datacenters, fewer than keepAlive (2)',
  );
});

test('a network toxic on Consul draws no instance: no blast radius to leave, no pick in the plan', () => {
  const onConsul = scenario('  - action: blackhole\n    on: consul\n    duration: 1s');
  const onInstance = scenario('  - action: blackhole\n    duration: 1s');
  assert.equal(unmetPrecondition(onConsul, { ...single, hello: 1 }), undefined);
  assert.equal(
    unmetPrecondition(onInstance, { ...single, hello: 1 }),
    'blackhole needs more running hello instances than keepAlive (1) leaves untouched; this stack has 1',
  );
  assert.doesNotMatch(formatPlan(planScenario(onConsul, 7)), /\[pick/);
  assert.match(formatPlan(planScenario(onInstance, 7)), /\[pick \d+\]/);
});
