import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseScenario } from './load-scenario.js';
import { type StackFacts, stackFacts, unmetPrecondition } from './preconditions.js';

const scenario = (method: string, keepAlive = 1) => parseScenario(`title: t\nmethod:\n${method}\nkeepAlive: ${keepAlive}\n`, 'test.yaml');
const single: StackFacts = { swarm: false, hello: 3, consul: 1, consulApi: true };

test('every step that can apply on the stack: nothing to say', () => {
  assert.equal(unmetPrecondition(scenario('  - action: pause\n    duration: 1s\n  - action: restart-consul'), single), undefined);
  assert.equal(unmetPrecondition(scenario('  - action: kill-consul-leader'), { ...single, consul: 3 }), undefined);
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
  );
  assert.deepEqual(facts, { swarm: false, hello: 1, consul: 1, consulApi: true });
});
