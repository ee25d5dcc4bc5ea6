import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DockerComposeEnvironment, type StartedDockerComposeEnvironment, Wait } from 'testcontainers';
import { correctInstances, statsWhen } from './support/client-stats.js';
import { E2E_PROJECT_PREFIX, findLeftovers, sweep } from './support/docker-sweep.js';
import { baseImages, ROOT } from './support/lab-cluster.js';

/**
 * Smoke test of `make up`'s own configuration: docker-compose.yml brought up
 * through testcontainers' compose support, under a project name of its own
 * and with ephemeral host ports, so it never collides with a running demo.
 */
const project = `${E2E_PROJECT_PREFIX}compose-${process.pid}`;

let environment: StartedDockerComposeEnvironment | undefined;
const onInterrupt = (): void => {
  void sweep(project).finally(() => process.exit(130));
};

before(async () => {
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  environment = await new DockerComposeEnvironment(ROOT, 'docker-compose.yml')
    .withProjectName(project)
    .withBuild()
    .withEnvironment({ ...baseImages(), CONSUL_UI_PORT: '0', CLIENT_STATS_PORT: '0' })
    .withWaitStrategy('client-1', Wait.forHealthCheck())
    .withStartupTimeout(180_000)
    .up();
});

after(async () => {
  await environment?.down({ timeout: 5_000, removeVolumes: true }).catch(() => undefined);
  await sweep(project);
  process.removeListener('SIGINT', onInterrupt);
  process.removeListener('SIGTERM', onInterrupt);
  const left = await findLeftovers(project);
  assert.deepEqual(left, { containers: [], networks: [], images: [] }, `compose smoke run left resources behind`);
});

test('the compose stack: within 60 s at least 20 correct SayHello results from 3 distinct instances', async () => {
  assert.ok(environment, 'compose environment did not start');
  const client = environment.getContainer('client-1');
  const baseUrl = `http://${client.getHost()}:${client.getMappedPort(9464)}`;
  const stats = await statsWhen(baseUrl, (s) => s.ok >= 20 && correctInstances(s).length >= 3, 60_000);
  const summary = JSON.stringify({ ok: stats.ok, failed: stats.failed, wrong: stats.wrong, byInstance: stats.byInstance });
  assert.equal(stats.wrong, 0, `wrong answers: ${summary}`);
  assert.ok(stats.ok >= 20, `fewer than 20 correct results in 60 s: ${summary}`);
  assert.equal(correctInstances(stats).length, 3, `expected answers from 3 distinct instances: ${summary}`);
});
