import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadScenario, parseScenario, ScenarioError } from './load-scenario.js';

// Every shipped scenario, loaded and planned: shipped-scenarios.test.ts.

test('durations are read as milliseconds and defaults fill the rest', () => {
  const scenario = parseScenario('title: t\nmethod:\n  - action: pause\n    duration: 1.5s\n', 'x.yaml');
  assert.deepEqual(scenario.method[0], { action: 'pause', target: 'random', duration: 1_500, at: 0, times: 1, jitter: 0 });
  assert.equal(scenario.settle, 10_000);
  assert.deepEqual(scenario.hypothesis, { successRatioAtLeast: 1, maxWrong: 0, everyLiveInstanceServedWithin: 5_000 });
});

const bad: [string, string, RegExp][] = [
  ['a bad duration', 'title: t\nmethod:\n  - action: kill\n    every: soon\n', /^bad\.yaml:4: method\.0\.every: a duration such as/],
  ['an unknown action', 'title: t\nmethod:\n  - action: explode\n', /^bad\.yaml:3: method\.0\.action: /],
  ['an unknown field', 'title: t\nmethod:\n  - action: kill\n    signl: SIGKILL\n', /^bad\.yaml:3: method\.0: .*signl/],
  ['a missing title', 'method:\n  - action: kill\n', /^bad\.yaml:1: title: /],
  [
    'a ratio above 1',
    'title: t\nhypothesis:\n  successRatioAtLeast: 2\nmethod:\n  - action: kill\n',
    /^bad\.yaml:3: hypothesis\.successRatioAtLeast: /,
  ],
  ['broken YAML', 'title: t\nmethod: [\n', /^bad\.yaml:\d+: YAML syntax: /],
];
for (const [what, text, expected] of bad) {
  test(`${what} is refused with its line and field`, () => {
    assert.throws(
      () => parseScenario(text, 'bad.yaml'),
      (error: unknown) => error instanceof ScenarioError && expected.test(error.message),
    );
  });
}

test('an unknown scenario name says so', () => {
  assert.throws(() => loadScenario('no-such-scenario'), /no scenario "no-such-scenario"/);
});
