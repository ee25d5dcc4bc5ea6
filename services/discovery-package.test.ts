import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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
 * The discovery library as a user gets it: `npm pack` (which builds it: its
 * prepack), installed into two empty projects, one ESM and one CommonJS,
 * each with @grpc/grpc-js (and proto-loader for HelloService's proto), then
 * used from each, by import and by require(), to call a real HelloService
 * found through a real Consul; TypeScript finds the types of each build. The
 * package's own example runs from the installed copy too.
 */
const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LIBRARY = join(ROOT, 'packages/consul-discovery');
const work = mkdtempSync(join(tmpdir(), 'consul-discovery-pack-'));
/**
 * The peer range (>=1.14.0 <1.15.0) claims only what is tested: its lowest
 * grpc-js here, its highest (the newest published, which the lab pins) in
 * the other two projects.
 */
const LOWEST_GRPC = '1.14.0';
const HIGHEST_GRPC = '1.14.7';
const APPS = { esm: join(work, 'app'), cjs: join(work, 'app-cjs'), lowest: join(work, `app-grpc-${LOWEST_GRPC}`) } as const;
let consul: ConsulDevAgent;
let server: HelloProcess;
let tarball: string;

/**
 * The library's contract tests (they need only the library, grpc-js, Consul
 * and grpc-health-check), run again against the lowest grpc-js; the
 * highest is the one every other run of them uses.
 */
const CONTRACT_TESTS = ['resolver', 'watch-contract', 'caller-mistakes', 'misbehaving-consul'];

/** An empty project of the given module type with the packed library and that grpc-js installed. */
async function installInto(app: string, type: 'module' | 'commonjs', grpcVersion = HIGHEST_GRPC, extra: string[] = []): Promise<void> {
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: `pack-test-${type}`, private: true, type }));
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      tarball,
      `@grpc/grpc-js@${grpcVersion}`,
      '@grpc/proto-loader@0.8.1',
      ...extra,
    ],
    { cwd: app, timeout: 180_000 },
  );
}

before(async () => {
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: LIBRARY, timeout: 120_000 });
  tarball = join(work, stdout.trim().split('\n').at(-1) ?? '');
  await Promise.all([
    installInto(APPS.esm, 'module'),
    installInto(APPS.cjs, 'commonjs'),
    installInto(APPS.lowest, 'module', LOWEST_GRPC, ['grpc-health-check@2.1.0']),
  ]);
  consul = await ConsulDevAgent.start();
  server = HelloProcess.start({ port: await freePort(), consulAddress: consul.address });
  assert.ok(await eventually(async () => (await passingIds(consul.address)).includes(server.instanceId), 15_000), server.logs);
});

after(async () => {
  await server?.dispose();
  await consul?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('the tarball ships the compiled library (ESM and CommonJS), their types, README, CHANGELOG, LICENSE and example, and no tests', async () => {
  const { stdout } = await run('tar', ['-tzf', tarball]);
  const files = stdout.split('\n').filter(Boolean);
  for (const expected of [
    'package/dist/src/index.js',
    'package/dist/src/index.d.ts',
    'package/dist/src/testing/index.js',
    'package/dist/cjs/index.js',
    'package/dist/cjs/index.d.ts',
    'package/dist/cjs/package.json',
    'package/dist/cjs/testing/index.js',
    'package/README.md',
    'package/CHANGELOG.md',
    'package/LICENSE',
    'package/examples/round-robin.mjs',
  ]) {
    assert.ok(files.includes(expected), `${expected} in ${files.join(', ')}`);
  }
  assert.deepEqual(
    files.filter((file) => /\.test\.|\/test\/|\.map$|\.ts$/.test(file) && !file.endsWith('.d.ts')),
    [],
  );
});

/** A program that finds HelloService through Consul with the installed library and prints its answer; `load` is how it gets the modules. */
function callProgram(load: (module: string) => string): string {
  return `${load('grpc')}
${load('protoLoader')}
${load('discovery')}
discovery.registerConsulResolver();
const proto = grpc.loadPackageDefinition(protoLoader.loadSync(${JSON.stringify(join(ROOT, 'proto/hello.proto'))}, { keepCase: true }));
const client = new proto.hello.HelloService('consul://${consul.address}/HelloService', grpc.credentials.createInsecure(), discovery.consulDiscoveryOptions({ connection: { env: {} } }));
client.SayHello({ name: 'packed', num1: 40, num2: 2 }, { deadline: Date.now() + 5000 }, (error, answer) => {
  if (error) { console.error(error.message); process.exit(1); }
  console.log(JSON.stringify(answer));
  client.close();
});
`;
}
const PACKAGES = { grpc: '@grpc/grpc-js', protoLoader: '@grpc/proto-loader', discovery: '@grpc-consul-lab/consul-discovery' } as const;
const PROGRAMS = {
  esm: { file: 'call.mjs', source: () => callProgram((name) => `import * as ${name} from '${PACKAGES[name as keyof typeof PACKAGES]}';`) },
  cjs: { file: 'call.cjs', source: () => callProgram((name) => `const ${name} = require('${PACKAGES[name as keyof typeof PACKAGES]}');`) },
} as const;

/** Runs the call program in `app` and checks the answer; the installed package's files, too. */
async function assertCalls(app: string, program: { readonly file: string; readonly source: () => string }): Promise<void> {
  writeFileSync(join(app, program.file), program.source());
  const { stdout } = await run(process.execPath, [program.file], { cwd: app, timeout: 20_000 });
  const answer = JSON.parse(stdout) as { message: string; result: number };
  assert.equal(answer.result, 42);
  assert.match(answer.message, new RegExp(`^Hello packed, from ${server.instanceId} at `));
  assert.deepEqual(readdirSync(join(app, 'node_modules/@grpc-consul-lab/consul-discovery')).sort(), [
    'CHANGELOG.md',
    'LICENSE',
    'README.md',
    'dist',
    'examples',
    'package.json',
  ]);
}

test('installed in an empty ESM project, it finds HelloService through Consul and calls it (import)', () =>
  assertCalls(APPS.esm, PROGRAMS.esm));

test('installed in an empty CommonJS project, it finds HelloService through Consul and calls it (require())', () =>
  assertCalls(APPS.cjs, PROGRAMS.cjs));

test(`with the lowest grpc-js of its peer range (${LOWEST_GRPC}) it finds and calls HelloService too`, async () => {
  const installed = JSON.parse(readFileSync(join(APPS.lowest, 'node_modules/@grpc/grpc-js/package.json'), 'utf8')) as { version: string };
  assert.equal(installed.version, LOWEST_GRPC);
  await assertCalls(APPS.lowest, PROGRAMS.esm);
});

test(`the library's contract tests pass with grpc-js ${LOWEST_GRPC} too: ${CONTRACT_TESTS.join(', ')}`, async () => {
  // Their compiled copy inside the project, so that grpc-js resolves to the project's.
  const copy = join(APPS.lowest, 'contract');
  cpSync(join(LIBRARY, 'dist'), copy, { recursive: true, filter: (path) => !path.includes(`${join(LIBRARY, 'dist', 'cjs')}`) });
  writeFileSync(join(copy, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  const resolved = createRequire(join(copy, 'test', 'resolver.test.js')).resolve('@grpc/grpc-js/package.json');
  assert.equal((JSON.parse(readFileSync(resolved, 'utf8')) as { version: string }).version, LOWEST_GRPC, resolved);
  const files = CONTRACT_TESTS.map((name) => join('test', `${name}.test.js`));
  // Without NODE_TEST_CONTEXT, which would make that run report to this one instead of printing.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  // All at once: they wait on Consul and timers far more than they compute.
  const { stdout } = await run(process.execPath, ['--test', `--test-concurrency=${files.length}`, '--test-reporter=tap', ...files], {
    cwd: copy,
    timeout: 240_000,
    env,
  });
  const count = (what: string): number => Number(new RegExp(`^# ${what} (\\d+)$`, 'm').exec(stdout)?.[1] ?? NaN);
  assert.ok(count('tests') > 0 && count('pass') === count('tests'), `every contract test ran and passed:\n${stdout}`);
  assert.equal(count('skipped'), 0, stdout);
});

test('TypeScript finds the types of the build each project loads: dist/src for ESM, dist/cjs for CommonJS, and checks a call against them', async () => {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const source = `import { consulDiscoveryOptions, registerConsulResolver, type ConsulDiscoveryOptions } from '@grpc-consul-lab/consul-discovery';
registerConsulResolver();
const options: ConsulDiscoveryOptions = { connection: { env: {} } };
export const channelOptions: Record<string, unknown> = consulDiscoveryOptions(options);
`;
  for (const [kind, expected] of [
    ['esm', 'dist/src/index.d.ts'],
    ['cjs', 'dist/cjs/index.d.ts'],
  ] as const) {
    const app = APPS[kind];
    writeFileSync(join(app, 'typed.ts'), source);
    const { stdout } = await run(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--skipLibCheck',
        '--typeRoots',
        join(ROOT, 'node_modules/@types'),
        '--types',
        'node',
        '--listFiles',
        'typed.ts',
      ],
      { cwd: app, timeout: 60_000 },
    );
    const library = stdout.split('\n').filter((file) => file.includes('@grpc-consul-lab/consul-discovery/'));
    assert.ok(
      library.some((file) => file.endsWith(`consul-discovery/${expected}`)),
      `${kind}: ${library.join(', ')}`,
    );
  }
});

test("the package's example runs from the installed copy: two servers, round robin, drained", async () => {
  const { stdout } = await run(process.execPath, ['node_modules/@grpc-consul-lab/consul-discovery/examples/round-robin.mjs'], {
    cwd: APPS.esm,
    timeout: 30_000,
    env: { ...process.env, CONSUL_HTTP_ADDR: consul.address },
  });
  const answers = /answers: (.*)/.exec(stdout)?.[1]?.split(' ') ?? [];
  assert.equal(answers.length, 6, stdout);
  assert.deepEqual([...new Set(answers)].sort(), ['alpha', 'beta'], `round robin over both servers:\n${stdout}`);
  assert.match(stdout, /drained/);
});

test("the README's quick start, run as written from the installed copy, prints the server's greeting and leaves Consul as it found it", async () => {
  const readme = readFileSync(join(LIBRARY, 'README.md'), 'utf8');
  const block = /<!-- quick-start:[^>]*-->\s*```js\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'README.md has a quick-start js block after its marker');
  writeFileSync(join(APPS.esm, 'quick-start.mjs'), block);
  const { stdout } = await run(process.execPath, ['quick-start.mjs'], {
    cwd: APPS.esm,
    timeout: 30_000,
    env: { ...process.env, CONSUL_HTTP_ADDR: consul.address },
  });
  assert.equal(stdout, 'hello, world\n');
  // The greeting came through a consul: target, so the server was registered; drain() took it out again.
  const left = (await (await fetch(`http://${consul.address}/v1/catalog/service/greeter`)).json()) as unknown[];
  assert.deepEqual(left, [], 'drain() deregistered the quick start server');
});
