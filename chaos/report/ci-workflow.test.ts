import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';

/**
 * The GitHub Actions workflow: make check first, then make test (everything
 * the README's test command runs) and a chaos run, their JUnit published.
 * Parsed (no network for the Actions schema here) and checked for what makes
 * it do its job.
 */
interface Step {
  readonly name?: string;
  readonly run?: string;
  readonly uses?: string;
  readonly if?: string;
  readonly env?: Record<string, string>;
  readonly with?: Record<string, unknown>;
}

interface Job {
  readonly 'runs-on': string;
  readonly 'timeout-minutes': number;
  readonly needs?: string;
  readonly steps: Step[];
}

const workflow = parse(readFileSync(new URL('../../../.github/workflows/e2e.yml', import.meta.url), 'utf8')) as {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
};

function stepsOf(name: string): { steps: Step[]; find: (pattern: RegExp) => Step | undefined } {
  const steps = workflow.jobs[name]?.steps ?? [];
  return { steps, find: (pattern) => steps.find((step) => pattern.test(step.run ?? '') || pattern.test(step.uses ?? '')) };
}

function assertInOrder(steps: Step[], ordered: (Step | undefined)[]): void {
  const order = ordered.map((step) => steps.indexOf(step as Step));
  assert.ok(!order.includes(-1), `every step is there: ${order.join(', ')}`);
  assert.deepEqual(
    order,
    [...order].sort((a, b) => a - b),
    `in that order: ${order.join(', ')}`,
  );
}

test('the workflow runs on pushes and pull requests, each job with a time limit, allowed to publish checks', () => {
  assert.ok('push' in workflow.on && 'pull_request' in workflow.on);
  assert.equal(workflow.permissions.checks, 'write');
  assert.deepEqual(Object.keys(workflow.jobs).sort(), ['check', 'test']);
  for (const [name, job] of Object.entries(workflow.jobs)) {
    assert.match(job['runs-on'], /^ubuntu-/, name);
    assert.ok(job['timeout-minutes'] > 0 && job['timeout-minutes'] <= 90, name);
    assert.ok(
      job.steps.every((step) => step.name),
      `every step of ${name} has a name`,
    );
    for (const step of job.steps.filter((entry) => entry.uses))
      assert.match(step.uses ?? '', /@v\d+$/, `${step.uses} pinned to a major version`);
  }
});

test('make check comes first, on npm ci alone, fast, writing JUnit that is published whatever happened', () => {
  const { steps, find } = stepsOf('check');
  assert.ok((workflow.jobs.check?.['timeout-minutes'] ?? 0) <= 15, 'a fast job');
  assert.equal(
    steps.find((step) => /setup-go/.test(step.uses ?? '')),
    undefined,
    'no Consul to build',
  );
  const check = find(/^make check$/m);
  assert.equal(check?.env?.TEST_JUNIT, 'reports/junit/check.xml');
  const publish = find(/^mikepenz\/action-junit-report@v\d+$/);
  assert.equal(publish?.if, 'always()');
  assert.equal(publish?.with?.report_paths, 'reports/junit/check.xml');
  assertInOrder(steps, [find(/^npm ci\b/m), check, publish]);
  assert.equal(workflow.jobs.test?.needs, 'check', 'the long job waits for it');
});

test('then make test writing JUnit, a chaos run writing JUnit, make down and the publishing whatever happened', () => {
  const { steps, find } = stepsOf('test');
  const everything = find(/(^|\s)make test$/m);
  assert.equal(everything?.env?.TEST_JUNIT, 'reports/junit/test.xml');
  const chaos = find(/make chaos /);
  assert.match(chaos?.run ?? '', /make up\n.*make chaos SCENARIO=\S+ SEED=\d+ JUNIT=reports\/junit\/chaos\.xml/s);
  const down = find(/(^|\s)make down$/m);
  assert.equal(down?.if, 'always()');
  const publish = find(/^mikepenz\/action-junit-report@v\d+$/);
  assert.equal(publish?.if, 'always()');
  assert.equal(publish?.with?.report_paths, 'reports/junit/*.xml');
  assertInOrder(steps, [everything, chaos, down, publish]);
});
