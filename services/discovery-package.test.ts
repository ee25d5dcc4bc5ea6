import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before } from 'node:test';
import { ConsulDevAgent, freePort } from '@grpc-consul-lab/consul-discovery/testing';
import { HelloProcess } from './local/hello-process.js';
import { passingIds } from '../packages/testing/consul-queries.js';
import { eventually } from '../packages/testing/eventually.js';
import { test } from '../packages/testing/timed-test.js';

/**
 * The discovery library as a user gets it: `npm pack`, installed into an
 * empty directory with @grpc/grpc-js (and proto-loader for HelloService's
 * proto), then used there to call a real HelloService found through a real
 * Consul. The package's own example runs from the installed copy too.
 */
const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LIBRARY = join(ROOT, 'packages/consul-discovery');
const work = mkdtempSync(join(tmpdir(), 'consul-discovery-pack-'));
let consul: ConsulDevAgent;
let server: HelloProcess;
let tarball: string;

before(async () => {
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: LIBRARY });
  tarball = join(work, stdout.trim().split('\n').at(-1) ?? '');
  const app = join(work, 'app');
  await run('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-test', private: true, type: 'module' }));
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, '@grpc/grpc-js@1.14.7', '@grpc/proto-loader@0.8.1'],
    {
      cwd: app,
      timeout: 180_000,
    },
  );
  consul = await ConsulDevAgent.start();
  server = HelloProcess.start({ port: await freePort(), consulAddress: consul.address });
  assert.ok(await eventually(async () => (await passingIds(consul.address)).includes(server.instanceId), 15_000), server.logs);
});

after(async () => {
  await server?.dispose();
  await consul?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('the tarball ships the compiled library, its types, README and example, and no tests', async () => {
  const { stdout } = await run('tar', ['-tzf', tarball]);
  const files = stdout.split('\n').filter(Boolean);
  for (const expected of [
    'package/dist/src/index.js',
    'package/dist/src/index.d.ts',
    'package/dist/src/testing/index.js',
    'package/README.md',
    'package/examples/round-robin.mjs',
  ]) {
    assert.ok(files.includes(expected), `${expected} in ${files.join(', ')}`);
  }
  assert.deepEqual(
    files.filter((file) => /\.test\.|\/test\/|\.map$|\.ts$/.test(file) && !file.endsWith('.d.ts')),
    [],
  );
});

test('installed in an empty directory, it finds HelloService through Consul and calls it', async () => {
  const app = join(work, 'app');
  writeFileSync(
    join(app, 'call.mjs'),
    `import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { registerConsulResolver, consulDiscoveryOptions } from '@grpc-consul-lab/consul-discovery';
registerConsulResolver();
const proto = grpc.loadPackageDefinition(protoLoader.loadSync(${JSON.stringify(join(ROOT, 'proto/hello.proto'))}, { keepCase: true }));
const client = new proto.hello.HelloService('consul://${consul.address}/HelloService', grpc.credentials.createInsecure(), consulDiscoveryOptions({ connection: { env: {} } }));
client.SayHello({ name: 'packed', num1: 40, num2: 2 }, { deadline: Date.now() + 5000 }, (error, answer) => {
  if (error) { console.error(error.message); process.exit(1); }
  console.log(JSON.stringify(answer));
  client.close();
});
`,
  );
  const { stdout } = await run(process.execPath, ['call.mjs'], { cwd: app, timeout: 20_000 });
  const answer = JSON.parse(stdout) as { message: string; result: number };
  assert.equal(answer.result, 42);
  assert.match(answer.message, new RegExp(`^Hello packed, from ${server.instanceId} at `));
  assert.deepEqual(readdirSync(join(app, 'node_modules/@grpc-consul-lab/consul-discovery')).sort(), [
    'README.md',
    'dist',
    'examples',
    'package.json',
  ]);
});

test("the package's example runs from the installed copy: two servers, round robin, drained", async () => {
  const app = join(work, 'app');
  const { stdout } = await run(process.execPath, ['node_modules/@grpc-consul-lab/consul-discovery/examples/round-robin.mjs'], {
    cwd: app,
    timeout: 30_000,
    env: { ...process.env, CONSUL_HTTP_ADDR: consul.address },
  });
  const answers = /answers: (.*)/.exec(stdout)?.[1]?.split(' ') ?? [];
  assert.equal(answers.length, 6, stdout);
  assert.deepEqual([...new Set(answers)].sort(), ['alpha', 'beta'], `round robin over both servers:\n${stdout}`);
  assert.match(stdout, /drained/);
});
