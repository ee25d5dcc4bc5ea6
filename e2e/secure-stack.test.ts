import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe } from 'node:test';
import { e2eTest as test } from '../packages/testing/timed-test.js';
import * as grpc from '@grpc/grpc-js';
import Docker from 'dockerode';
import { GenericContainer, type StartedTestContainer } from 'testcontainers';
import { COMPOSE_PROJECT_LABEL, ROLE_LABEL } from '../chaos/docker/labels.js';
import { proofLine } from '../chaos/engine/verdict.js';
import { journalIn, spawnChaosCli } from './support/chaos-cli.js';
import { labClientCredentials, sayHelloAt } from './support/direct-calls.js';
import { fetchStats } from '../packages/contracts/stats.js';
import { correctInstances, statsWhen } from './support/client-stats.js';
import { assertHardened } from './support/hardening.js';
import { ComposeStack, newProjectName } from './support/compose-stack.js';
import { findLeftovers, sweep } from './support/docker-sweep.js';
import { assertFaultsProven } from './support/fault-proof.js';
import { deltaOf, say } from './support/judge.js';
import { demuxLogs, ROOT } from './support/paths.js';
import { assertStackClean } from './support/stack-clean.js';
import { assertUnchanged, snapshotOf } from './support/stack-snapshot.js';
import { eventually } from '../packages/testing/eventually.js';

/**
 * `make up`'s own configuration, docker-compose.yml, through testcontainers:
 * it serves; it is secure (hardened containers, Consul's ACLs deny by
 * default, no rogue instance gets a call, gRPC needs a certificate from our
 * CA); it holds the shipped random-mix scenario at 200 calls/s with the seed
 * that once lost an instance for good (e2e/long/ runs seeds 1 to 12); and
 * `make chaos` behaves on it as a user runs it (Ctrl-C, a violated
 * hypothesis, bad input, a dry run).
 */
const run = promisify(execFile);
const docker = new Docker();
const project = newProjectName('secure');
let stack: ComposeStack;
const work = mkdtempSync(join(tmpdir(), 'secure-stack-'));
const secret = (name: string): string => readFileSync(join(ROOT, '.secrets', name), 'utf8').trim();

const onInterrupt = (): void => {
  void sweep(project).finally(() => process.exit(130));
};

before(async () => {
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  stack = await ComposeStack.start(project, { env: { CALL_RATE: '200' } });
});

after(async () => {
  await stack?.down();
  rmSync(work, { recursive: true, force: true });
  process.removeListener('SIGINT', onInterrupt);
  process.removeListener('SIGTERM', onInterrupt);
  assert.deepEqual(
    await findLeftovers(project),
    { containers: [], networks: [], volumes: [], images: [] },
    'the run left resources behind',
  );
});

/** A request to Consul's API from the host with one of the lab's tokens (or none): status and body. */
async function consulAs(
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  const url = `${await stack.consulUrl()}${path}`;
  const args = ['-s', '-o', '-', '-w', '\n%{http_code}', '--cacert', join(ROOT, '.secrets/ca.pem'), '-X', method, url];
  if (token) args.push('-H', `X-Consul-Token: ${token}`);
  if (body !== undefined) args.push('-d', JSON.stringify(body));
  const { stdout } = await run('curl', args);
  const lines = stdout.split('\n');
  return { status: Number(lines.pop()), text: lines.join('\n') };
}

test('the stack serves: within 60 s at least 20 correct SayHello results from 3 distinct instances', async () => {
  const stats = await statsWhen(
    stack.statsUrl,
    '20 correct results from at least 3 distinct instances',
    (s) => s.ok >= 20 && correctInstances(s).length >= 3,
    60_000,
  );
  const summary = JSON.stringify({ ok: stats.ok, failed: stats.failed, wrong: stats.wrong, byInstance: stats.byInstance });
  assert.equal(stats.wrong, 0, `wrong answers: ${summary}`);
  assert.equal(correctInstances(stats).length, 3, `expected answers from 3 distinct instances, no more: ${summary}`);
});

describe('secure by default', () => {
  test('every container runs as a user that is not root, read-only, without capabilities or privilege gain, with memory and pid limits', async () => {
    const containers = await docker.listContainers({ all: true, filters: { label: [`${COMPOSE_PROJECT_LABEL}=${project}`] } });
    const roles = containers.map((c) => c.Labels[ROLE_LABEL]).sort();
    assert.deepEqual(roles, ['client', 'consul', 'consul-acl', 'hello', 'hello', 'hello']);
    for (const { Id } of containers) assertHardened(await docker.getContainer(Id).inspect());
    const published = containers
      .filter((c) => c.Ports.some((p) => p.PublicPort))
      .map((c) => c.Labels[ROLE_LABEL])
      .sort();
    assert.deepEqual(published, ['client', 'consul'], 'the gRPC ports stay inside the compose network');
  });

  test("Consul's ACLs deny by default, and each token has only its role's rights", async () => {
    const anonymous = await consulAs(undefined, 'GET', '/v1/catalog/services');
    assert.equal(anonymous.status, 200);
    assert.deepEqual(JSON.parse(anonymous.text), {}, 'an anonymous request lists no service');
    assert.deepEqual(JSON.parse((await consulAs(undefined, 'GET', '/v1/health/service/HelloService')).text), []);
    const rogue = { Name: 'HelloService', ID: 'HelloService-rogue-1', Address: '10.9.9.9', Port: 50051 };
    const byClient = await consulAs(secret('hello-client.token'), 'PUT', '/v1/agent/service/register', rogue);
    assert.equal(byClient.status, 403, `the client's token cannot register an instance: ${byClient.text}`);
    const byServerElsewhere = await consulAs(secret('hello-server.token'), 'PUT', '/v1/agent/service/register', {
      ...rogue,
      Name: 'OtherService',
    });
    assert.equal(byServerElsewhere.status, 403, `a server's token cannot register under another name: ${byServerElsewhere.text}`);
    assert.match(byServerElsewhere.text, /lacks permission 'service:write' on "OtherService"/);
    const byUi = await consulAs(secret('ui-read.token'), 'PUT', '/v1/agent/service/register', rogue);
    assert.equal(byUi.status, 403, 'the UI token only reads');
    const asClient = JSON.parse(
      (await consulAs(secret('hello-client.token'), 'GET', '/v1/health/service/HelloService?passing')).text,
    ) as unknown[];
    assert.equal(asClient.length, 3, 'the client token reads HelloService');
    const clientSees = JSON.parse((await consulAs(secret('hello-client.token'), 'GET', '/v1/catalog/services')).text) as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(clientSees), ['HelloService'], 'and nothing else');
    assert.equal((await consulAs(secret('hello-client.token'), 'GET', '/v1/agent/self')).status, 403);
    const plain = await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      (await stack.consulUrl()).replace('https:', 'http:') + '/v1/status/leader',
    ]);
    assert.equal(plain.stdout, '400', 'no plain HTTP');
  });

  test('a rogue instance on the same network is refused by Consul, anonymously or with the client token, and never gets a call', async () => {
    const before = await fetchStats(stack.statsUrl);
    // Our own server program, as an attacker would run it: plaintext gRPC, registering as HelloService.
    const attackers: StartedTestContainer[] = [];
    for (const [name, token] of [
      ['anonymous', undefined],
      ['with-client-token', join(ROOT, '.secrets/hello-client.token')],
    ] as const) {
      attackers.push(
        await new GenericContainer(stack.imageOf('hello'))
          .withName(`${project}-rogue-${name}`)
          .withLabels({ [COMPOSE_PROJECT_LABEL]: project, [ROLE_LABEL]: 'rogue' })
          .withNetworkMode(stack.network)
          .withBindMounts([
            { source: join(ROOT, '.secrets/ca.pem'), target: '/run/secrets/ca.pem', mode: 'ro' },
            ...(token ? [{ source: token, target: '/run/secrets/token', mode: 'ro' as const }] : []),
          ])
          .withEnvironment({
            CONSUL_HTTP_ADDR: 'https://consul:8501',
            CONSUL_CACERT: '/run/secrets/ca.pem',
            ...(token && { CONSUL_HTTP_TOKEN_FILE: '/run/secrets/token' }),
            INSTANCE_ID: `HelloService-rogue-${name}`,
            // Read below line by line.
            LOG_FORMAT: 'json',
          })
          .start(),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    for (const attacker of attackers) {
      const text = demuxLogs(await docker.getContainer(attacker.getId()).logs({ stdout: true, stderr: true }));
      const refusals = text
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { msg: string; reason?: string })
        .filter((line) => line.msg === 'registration refused');
      assert.equal(refusals.length, 1, `the attacker was refused, and said so once:\n${text.slice(-1_500)}`);
      assert.match(refusals[0]?.reason ?? '', /answered 403: Permission denied: .* lacks permission 'service:write' on "HelloService"/);
    }
    const asManagement = JSON.parse((await consulAs(secret('management.token'), 'GET', '/v1/catalog/service/HelloService')).text) as {
      ServiceID: string;
    }[];
    assert.deepEqual(
      asManagement.filter((entry) => entry.ServiceID.includes('rogue')),
      [],
      'Consul holds no rogue registration',
    );
    const after = await fetchStats(stack.statsUrl);
    assert.deepEqual(
      Object.keys(after.byInstance).filter((id) => id.includes('rogue')),
      [],
      'no call reached a rogue instance',
    );
    assert.equal(after.wrong - before.wrong, 0);
    assert.equal(after.failed - before.failed, 0);
    for (const attacker of attackers) await attacker.stop({ remove: true });
  });

  test('gRPC needs a certificate from our CA: with our client certificate a call succeeds; without one, or with one from another CA, at the same address, a caller gets a clear error and no answer', async () => {
    const [target] = await stack.driver.targets('hello');
    assert.ok(target, 'a hello instance');
    const address = `${target.ip}:${target.port}`;
    const ca = readFileSync(join(ROOT, '.secrets/ca.pem'));
    // The positive control: this address answers from here, so the refusals below are the certificate's doing.
    const control = await sayHelloAt(address, labClientCredentials());
    assert.deepEqual(control, { result: 3 }, `our client certificate: SayHello(1 + 2) at ${address} answered ${JSON.stringify(control)}`);
    const consul = process.env.CONSUL_BIN ?? 'consul';
    await run(consul, ['tls', 'ca', 'create'], { cwd: work });
    await run(consul, ['tls', 'cert', 'create', '-cli', '-ca', 'consul-agent-ca.pem', '-key', 'consul-agent-ca-key.pem'], { cwd: work });
    const otherKey = readFileSync(join(work, 'dc1-cli-consul-0-key.pem'));
    const otherCert = readFileSync(join(work, 'dc1-cli-consul-0.pem'));
    const attempts: [string, grpc.ChannelCredentials][] = [
      ['plaintext', grpc.credentials.createInsecure()],
      ['TLS without a client certificate', grpc.credentials.createSsl(ca)],
      ['a client certificate from another CA', grpc.credentials.createSsl(ca, otherKey, otherCert)],
    ];
    for (const [what, credentials] of attempts) {
      const outcome = await sayHelloAt(address, credentials);
      const error = 'error' in outcome ? outcome.error : undefined;
      assert.ok(error, `${what}: got an answer: ${JSON.stringify(outcome)}`);
      assert.equal(error.code, grpc.status.UNAVAILABLE, `${what}: ${error.code} ${error.details}`);
      assert.ok(error.details.length > 0, `${what}: the error says why`);
    }
  });
});

test('random-mix, seed 1, at 200 calls/s: the hypothesis holds with 0 failed and 0 wrong', async (t) => {
  const journal = await stack.runShippedScenario('random-mix', 1);
  const delta = deltaOf(journal);
  t.diagnostic(`random-mix seed 1: calls ${delta.calls}, failed ${delta.failed}, wrong ${delta.wrong}, recovered ${delta.recovered}`);
  assert.equal(journal.status, 'completed', say('random-mix seed 1', 'run status', delta));
  // random-mix overlaps its faults: the blast-radius rule may skip some.
  assertFaultsProven(journal, { name: 'random-mix seed 1', skipsAllowed: true });
  assert.equal(delta.failed, 0, say('random-mix seed 1', 'failed calls', delta));
  assert.equal(delta.wrong, 0, say('random-mix seed 1', 'wrong results', delta));
  assert.deepEqual(
    journal.probes.filter((probe) => !probe.ok),
    [],
    say(
      'random-mix seed 1',
      'hypothesis',
      delta,
      journal.actions.map((a) => a.detail),
    ),
  );
  // The make chaos tests below run on this stack.
  await assertStackClean(stack, { name: 'random-mix seed 1' });
});

describe('make chaos, as a user runs it', () => {
  const out = join(work, 'reports');
  // Where a run could leave files: its --out, and the repository's reports/ (the CLI's default).
  const reportDirs = [out, join(ROOT, 'reports')];

  const chaos = (args: string[]): ReturnType<typeof spawnChaosCli> =>
    spawnChaosCli(['--project', project, '--stats-url', stack.statsUrl, '--out', out, ...args]);

  const waitForOutput = (output: () => string, pattern: RegExp, timeoutMs: number): Promise<boolean> =>
    eventually(() => pattern.test(output()), timeoutMs, 100);

  const consulUrlArgs = async (): Promise<string[]> => ['--consul-url', await stack.consulUrl()];

  test('the same seed prints the same plan twice (dry run changes nothing)', async () => {
    const before = await snapshotOf(stack, reportDirs);
    const plans: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const { child, output } = chaos(['--scenario', 'random-mix', '--seed', '424242', '--dry-run']);
      const [code] = await once(child, 'exit');
      assert.equal(code, 0, output());
      plans.push(output());
    }
    assert.equal(plans[0], plans[1]);
    assert.match(plans[0] ?? '', /dry run: nothing was changed/);
    await assertUnchanged(stack, reportDirs, before, 'two dry runs');
  });

  test('a bad scenario file gets one line naming its line and field, exit 2, and changes nothing', async () => {
    const file = join(work, 'bad.yaml');
    writeFileSync(file, 'title: bad\nmethod:\n  - action: pause\n    duration: forever\n');
    const before = await snapshotOf(stack, reportDirs);
    const { child, output } = chaos(['--scenario', file]);
    const [code] = await once(child, 'exit');
    assert.equal(code, 2);
    assert.equal(output().trim(), `chaos: ${file}:4: method.0.duration: a duration such as "500ms", "5s" or "1m"`);
    await assertUnchanged(stack, reportDirs, before, 'a bad scenario file');
  });

  test('a Consul-cluster fault on a single-server stack: one line, exit 2, nothing changed', async () => {
    const before = await snapshotOf(stack, reportDirs);
    const { child, output } = chaos(['--scenario', 'consul-quorum-loss', '--seed', '1', ...(await consulUrlArgs())]);
    const [code] = await once(child, 'exit');
    assert.equal(code, 2, output());
    assert.equal(output(), 'chaos: consul-quorum-loss needs the 3 Consul servers of PROFILE=ha; this stack has 1 (make up PROFILE=ha)\n');
    await assertUnchanged(stack, reportDirs, before, 'a Consul-cluster fault on a single-server stack');
  });

  test('Ctrl-C during a freeze undoes it: exit 130, the stack clean, journal and report both say interrupted, the freeze applied and undone', async () => {
    const { child, output } = chaos(['--scenario', 'freeze', '--seed', '5', ...(await consulUrlArgs())]);
    assert.ok(await waitForOutput(output, /fault #1 pause .*: paused /, 30_000), `the freeze started:\n${output()}`);
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    assert.equal(code, 130, output());
    assert.match(output(), /rollback: unpause /);
    // Nothing left paused, nor anything else.
    await assertStackClean(stack, { name: 'freeze, interrupted' });
    // The journal: interrupted, and the freeze read back paused, then running once the interrupt undid it.
    const journal = journalIn(out, 'freeze-seed5.json');
    assertFaultsProven(journal, { name: 'freeze, interrupted', verdict: 'interrupted' });
    assert.equal(journal.status, 'interrupted');
    const freeze = journal.actions.find((action) => action.kind === 'pause');
    assert.ok(
      freeze?.undoable === true && freeze.applied?.ok === true && freeze.undone?.ok === true,
      `the freeze applied, then undone: ${JSON.stringify(freeze)}`,
    );
    assert.ok(
      journal.rollbacks.some((rollback) => rollback.description.startsWith('unpause ') && rollback.outcome === 'done'),
      `the unpause is among the rollbacks: ${JSON.stringify(journal.rollbacks)}`,
    );
    // The report: the same run, saying what the journal says.
    const reportFile = readdirSync(out).find((file) => file.endsWith('freeze-seed5.html'));
    assert.ok(reportFile, `report written: ${readdirSync(out).join(', ')}`);
    const report = readFileSync(join(out, reportFile), 'utf8');
    assert.match(report, /<span class="verdict interrupted">INTERRUPTED<\/span>/, 'the report says interrupted');
    assert.ok(report.includes(`seed ${journal.seed} · `), 'the report is of seed 5');
    assert.ok(report.includes(proofLine(freeze)), `the report shows the freeze's read-backs: ${proofLine(freeze)}`);
  });

  test('a hypothesis that cannot hold (every instance frozen, no tolerance) exits 1 and names the probe', async () => {
    const file = join(work, 'impossible.yaml');
    writeFileSync(
      file,
      [
        'title: Everything frozen',
        'hypothesis:',
        '  successRatioAtLeast: 1.0',
        'method:',
        '  - action: pause',
        '    target: oldest',
        '    at: 1s',
        '    duration: 8s',
        '    every: 100ms',
        '    times: 3',
        'settle: 3s',
        'keepAlive: 0',
      ].join('\n'),
    );
    const { child, output } = chaos(['--scenario', file, '--seed', '1', ...(await consulUrlArgs())]);
    const [code] = await once(child, 'exit');
    assert.equal(code, 1, output());
    assert.match(output(), /verdict: HYPOTHESIS VIOLATED by success-ratio/);
    // Violated by faults that happened: all three instances read back paused, then running.
    assertFaultsProven(journalIn(out, 'impossible_yaml-seed1.json'), { name: 'everything frozen', verdict: 'violated' });
    // The rollbacks unpaused every instance, and the stack is as the next test needs it.
    await assertStackClean(stack, { name: 'everything frozen' });
  });
});
