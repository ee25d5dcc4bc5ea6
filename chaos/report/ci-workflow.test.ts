import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';

/**
 * The GitHub Actions workflow that runs `make e2e` and a chaos run and
 * publishes their JUnit: parsed (no network for the Actions schema here) and
 * checked for what makes it do its job.
 */
interface Step {
  readonly name?: string;
  readonly run?: string;
  readonly uses?: string;
  readonly if?: string;
  readonly env?: Record<string, string>;
  readonly with?: Record<string, unknown>;
}

const workflow = parse(readFileSync(new URL('../../../.github/workflows/e2e.yml', import.meta.url), 'utf8')) as {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, { 'runs-on': string; 'timeout-minutes': number; steps: Step[] }>;
};

test('the workflow runs on pushes and pull requests, with a time limit, allowed to publish checks', () => {
  assert.ok('push' in workflow.on && 'pull_request' in workflow.on);
  assert.equal(workflow.permissions.checks, 'write');
  const job = workflow.jobs.e2e;
  assert.ok(job, 'an e2e job');
  assert.match(job['runs-on'], /^ubuntu-/);
  assert.ok(job['timeout-minutes'] > 0 && job['timeout-minutes'] <= 90);
});

test('its steps: make e2e writing JUnit, a chaos run writing JUnit, make down and the publishing whatever happened', () => {
  const steps = workflow.jobs.e2e?.steps ?? [];
  assert.ok(
    steps.every((step) => step.name),
    'every step has a name',
  );
  const find = (pattern: RegExp): Step | undefined => steps.find((step) => pattern.test(step.run ?? '') || pattern.test(step.uses ?? ''));
  const e2e = find(/^make e2e$/m);
  assert.equal(e2e?.env?.TEST_JUNIT, 'reports/junit/e2e.xml');
  assert.match(find(/make chaos /)?.run ?? '', /make up\n.*make chaos SCENARIO=\S+ SEED=\d+ JUNIT=reports\/junit\/chaos\.xml/s);
  assert.equal(find(/^make down$/m)?.if, 'always()');
  const publish = find(/^mikepenz\/action-junit-report@v\d+$/);
  assert.equal(publish?.if, 'always()');
  assert.equal(publish?.with?.report_paths, 'reports/junit/*.xml');
  const order = [e2e, find(/make chaos /), find(/^make down$/m), publish].map((step) => steps.indexOf(step as Step));
  assert.deepEqual(
    order,
    [...order].sort((a, b) => a - b),
    `in that order: ${order.join(', ')}`,
  );
  for (const step of steps.filter((entry) => entry.uses)) assert.match(step.uses ?? '', /@v\d+$/, `${step.uses} pinned to a major version`);
});
