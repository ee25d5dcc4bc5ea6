import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadScenario, shippedScenarioNames } from './load-scenario.js';
import { faultKindOf } from '../faults/registry.js';
import { formatPlan, planScenario } from './plan.js';
import { type StackFacts, unmetPrecondition } from './preconditions.js';
import type { Action, Scenario } from './schema.js';

/**
 * Every file in chaos/scenarios/, found from the folder (a new one is covered
 * without being listed here): it loads with the real loader, plans with
 * several seeds into a non-empty, repeatable timeline that stays within what
 * the scenario itself allows, and the CLI's preconditions let it run on the
 * stack it is written for and stop it, before anything changes, on a stack
 * it is not.
 */
const SEEDS = [0, 1, 7, 11, 424_242];

/**
 * The stacks `make chaos` runs against, as the CLI sees them (stackFacts:
 * running containers labelled as chaos targets; the CLI always has a Consul
 * API): make up (one Consul server), make up PROFILE=ha (three), make
 * swarm-up (PROFILE=ha as Swarm services), make up PROFILE=multi-dc (two
 * datacenters of one server each). Every Consul server and instance is
 * labelled with its datacenter, dc1 but in PROFILE=multi-dc's second.
 * Three hello instances each (per datacenter), the default HELLO_REPLICAS.
 * And make up CONSUL_DATA_SIZE=64m: the single stack, its Consul data on a
 * sized volume.
 */
const STACKS = {
  single: { swarm: false, hello: 3, consul: 1, consulApi: true, datacenters: { dc1: { hello: 3, consul: 1 } }, sizedConsulData: 0 },
  'sized-data': { swarm: false, hello: 3, consul: 1, consulApi: true, datacenters: { dc1: { hello: 3, consul: 1 } }, sizedConsulData: 1 },
  ha: { swarm: false, hello: 3, consul: 3, consulApi: true, datacenters: { dc1: { hello: 3, consul: 3 } }, sizedConsulData: 0 },
  swarm: { swarm: true, hello: 3, consul: 3, consulApi: true, datacenters: { dc1: { hello: 3, consul: 3 } }, sizedConsulData: 0 },
  'multi-dc': {
    swarm: false,
    hello: 6,
    consul: 2,
    consulApi: true,
    datacenters: { dc1: { hello: 3, consul: 1 }, dc2: { hello: 3, consul: 1 } },
    sizedConsulData: 0,
  },
} as const satisfies Record<string, StackFacts>;
type StackName = keyof typeof STACKS;

/**
 * The stack a scenario is written for: Swarm when a step exists only there,
 * PROFILE=ha when a step needs the Consul cluster, PROFILE=multi-dc when one
 * needs two datacenters, CONSUL_DATA_SIZE when one fills Consul's disk, make
 * up's otherwise. Its description must say the
 * same (checked below), so the text a user reads and the stack the checks
 * assume cannot drift apart.
 */
function meantFor(scenario: Scenario): StackName {
  const kinds = scenario.method.map((action) => faultKindOf(action));
  if (kinds.some((kind) => !kind.runsOn.compose)) return 'swarm';
  if (kinds.some((kind) => kind.needs.includes('consul-cluster'))) return 'ha';
  if (kinds.some((kind) => kind.needs.includes('two-datacenters'))) return 'multi-dc';
  if (kinds.some((kind) => kind.needs.includes('sized-consul-data'))) return 'sized-data';
  return 'single';
}

/** The latest a run of `action` may start, from the scenario's own numbers (jitter moves it either way). */
const latestStartMs = (action: Action): number => action.at + (action.times - 1) * (action.every ?? 0) + action.jitter;
/** How long a bounded fault lasts; 0 for an action that is over once applied. */
const lastsMs = (action: Action): number => ('duration' in action ? action.duration : 0);

const names = shippedScenarioNames();

test('the shipped scenarios are found in chaos/scenarios/', () => {
  // The folder holds 19 today; finding far fewer means the folder was not read.
  assert.ok(names.length >= 19, `found ${names.join(', ')}`);
  assert.ok(names.includes('rolling-kill') && names.includes('kill-consul-follower'), names.join(', '));
});

for (const name of names) {
  test(`shipped scenario ${name}: loads, plans the same for a seed within its own bounds, and suits its stack`, () => {
    const { scenario } = loadScenario(name);
    const runs = scenario.method.reduce((sum, action) => sum + action.times, 0);
    // The longest the scenario can last by its own numbers: the last start, the fault's length, then settle.
    const boundMs = Math.max(...scenario.method.map((action) => latestStartMs(action) + lastsMs(action))) + scenario.settle;
    for (const seed of SEEDS) {
      const plan = planScenario(scenario, seed);
      const at = `${name} seed ${seed}`;
      assert.ok(plan.steps.length > 0, `${at}: an empty plan`);
      assert.equal(plan.steps.length, runs, `${at}: one step per run of each action`);
      assert.deepEqual(planScenario(scenario, seed), plan, `${at}: the same seed, the same plan`);
      assert.equal(formatPlan(planScenario(scenario, seed)), formatPlan(plan), `${at}: the same printed plan`);
      for (const step of plan.steps) {
        const where = `${at} step #${step.index + 1} (${step.action.action} at ${step.atMs} ms)`;
        assert.ok(step.atMs >= 0 && step.atMs <= latestStartMs(step.action), `${where}: outside ${latestStartMs(step.action)} ms`);
        assert.equal((step.untilMs ?? step.atMs) - step.atMs, lastsMs(step.action), `${where}: undone after its duration`);
        assert.ok((step.untilMs ?? step.atMs) <= plan.methodEndsMs, `${where}: ends after the method (${plan.methodEndsMs} ms)`);
      }
      assert.deepEqual(
        plan.steps.map((step) => step.atMs),
        plan.steps.map((step) => step.atMs).sort((a, b) => a - b),
        `${at}: steps in time order`,
      );
      assert.equal(plan.totalMs, plan.methodEndsMs + scenario.settle, `${at}: the run is the method, then settle`);
      assert.ok(plan.totalMs <= boundMs, `${at}: plans ${plan.totalMs} ms, the scenario allows ${boundMs} ms`);
    }

    const stack = meantFor(scenario);
    assert.equal(unmetPrecondition(scenario, STACKS[stack]), undefined, `${name} runs on the ${stack} stack it is written for`);
    assert.equal(
      /PROFILE=ha/.test(scenario.description),
      stack === 'ha',
      `${name}'s description names PROFILE=ha exactly when it needs the Consul cluster: ${scenario.description}`,
    );
    assert.equal(
      /swarm-up/.test(scenario.description),
      stack === 'swarm',
      `${name}'s description names make swarm-up exactly when only Swarm runs it`,
    );
    assert.equal(
      /PROFILE=multi-dc/.test(scenario.description),
      stack === 'multi-dc',
      `${name}'s description names PROFILE=multi-dc exactly when it needs two datacenters: ${scenario.description}`,
    );
    assert.equal(
      /CONSUL_DATA_SIZE/.test(scenario.description),
      stack === 'sized-data',
      `${name}'s description names CONSUL_DATA_SIZE exactly when it needs Consul's data on a sized volume: ${scenario.description}`,
    );
    // A stack short of what the scenario needs refuses it before anything changes (it would otherwise fail halfway).
    if (stack !== 'single') assert.ok(unmetPrecondition(scenario, STACKS.single), `${name} is refused on make up's single-server stack`);
  });
}
