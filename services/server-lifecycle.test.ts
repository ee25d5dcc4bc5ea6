import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ConsulDevAgent, freePort } from '@grpc-consul-lab/consul-discovery/testing';
import { loadHelloProto } from '../packages/contracts/hello.js';
import { HelloProcess } from './local/hello-process.js';
import { passingIds } from '../packages/testing/consul-queries.js';
import { eventually } from '../packages/testing/eventually.js';
import { makeTestCertificates } from '../packages/testing/test-certificates.js';
import { test } from '../packages/testing/timed-test.js';

const CLIENT_MAIN = fileURLToPath(new URL('./client/main.js', import.meta.url));

// Registration edge cases against a real Consul agent and real server processes. Each wait's limit
// is a safety net for a loaded machine, not a measure of how soon.
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function sayHello(port: number, timeoutMs = 2_000): Promise<number> {
  const client = new (loadHelloProto().hello.HelloService)(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise<number>((resolve, reject) =>
    client.SayHello({ name: 't', num1: 2, num2: 3 }, { deadline: Date.now() + timeoutMs }, (error, response) => {
      client.close();
      if (error || !response) reject(error ?? new Error('no response'));
      else resolve(response.result);
    }),
  );
}

function logLines(server: HelloProcess, message: string): number {
  return server.logs.split('\n').filter((line) => line.includes(`"msg":"${message}"`)).length;
}

test('with Consul unreachable at start the server serves anyway, logs it once, and registers when Consul appears', async () => {
  const consulPort = await freePort();
  const server = HelloProcess.start({ port: await freePort(), consulAddress: `127.0.0.1:${consulPort}` });
  cleanups.push(() => server.dispose());
  assert.ok(await eventually(async () => (await sayHello(server.port)) === 5, 20_000), 'serves without Consul');
  assert.ok(await eventually(() => logLines(server, 'registration unreachable') > 0, 20_000), server.logs);
  // Several retries happen meanwhile (backoff 250 ms, doubling); the state change is logged once.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  assert.equal(logLines(server, 'registration unreachable'), 1, server.logs);

  const consul = await ConsulDevAgent.start({ httpPort: consulPort });
  cleanups.push(() => consul.stop());
  const registered = await eventually(async () => (await passingIds(consul.address)).includes(server.instanceId), 15_000);
  assert.ok(registered, `registered once Consul came up:\n${server.logs}`);
  assert.equal(logLines(server, 'registration registered'), 1);
});

test('a second SIGTERM during the drain exits at once; a single one waits for calls in flight', async () => {
  const consul = await ConsulDevAgent.start();
  cleanups.push(() => consul.stop());
  const env = { HANDLER_DELAY_MS: '1500', SHUTDOWN_GRACE_MS: '10000', GRPC_CHECK_INTERVAL_MS: '0' };

  const patient = HelloProcess.start({ port: await freePort(), consulAddress: consul.address, env });
  cleanups.push(() => patient.dispose());
  assert.ok(await eventually(async () => (await passingIds(consul.address)).includes(patient.instanceId), 20_000));
  const inFlight = sayHello(patient.port, 5_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  patient.signal('SIGTERM');
  assert.equal(await inFlight, 5, 'the call in flight finished during the drain');
  assert.equal(await patient.waitForExit(), 0);

  const impatient = HelloProcess.start({ port: await freePort(), consulAddress: consul.address, env });
  cleanups.push(() => impatient.dispose());
  assert.ok(await eventually(async () => (await passingIds(consul.address)).includes(impatient.instanceId), 20_000));
  const cut = sayHello(impatient.port, 5_000).catch((error: grpc.ServiceError) => error.code);
  await new Promise((resolve) => setTimeout(resolve, 300));
  impatient.signal('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 200));
  const signalledAt = Date.now();
  impatient.signal('SIGTERM');
  assert.equal(await impatient.waitForExit(), 130);
  assert.ok(Date.now() - signalledAt < 1_000, 'exited at once');
  assert.equal(await cut, grpc.status.UNAVAILABLE, 'the call in flight was cut');
});

test('a refused server token: the server keeps serving, logs the ACL refusal once, backs off, and registers once its token file holds a valid token', async () => {
  const management = 'c0ffee00-0000-4000-8000-00000000f00d';
  const consul = await ConsulDevAgent.start({
    args: ['-hcl', `acl { enabled = true, default_policy = "deny", tokens { initial_management = "${management}" } }`],
  });
  cleanups.push(() => consul.stop());
  const serverToken = 'dddddddd-0000-4000-8000-00000000000d';
  const api = (method: string, path: string, body: unknown): Promise<Response> =>
    fetch(`http://${consul.address}${path}`, { method, headers: { 'x-consul-token': management }, body: JSON.stringify(body) });
  await api('PUT', '/v1/acl/policy', {
    Name: 'hello-server',
    Rules: 'service "HelloService" { policy = "write" }\nnode_prefix "" { policy = "read" }',
  });
  await api('PUT', '/v1/acl/token', { SecretID: serverToken, Policies: [{ Name: 'hello-server' }] });
  const dir = mkdtempSync(join(tmpdir(), 'server-token-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const tokenFile = join(dir, 'hello-server.token');
  writeFileSync(tokenFile, 'ffffffff-0000-4000-8000-000000000000\n');

  const server = HelloProcess.start({ port: await freePort(), consulAddress: consul.address, env: { CONSUL_HTTP_TOKEN_FILE: tokenFile } });
  cleanups.push(() => server.dispose());
  assert.ok(await eventually(async () => (await sayHello(server.port)) === 5, 20_000), 'serves while refused');
  assert.ok(await eventually(() => logLines(server, 'registration refused') > 0, 20_000), server.logs);
  // Retries meanwhile, backing off; the refusal is logged once.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  assert.equal(logLines(server, 'registration refused'), 1, server.logs);
  assert.match(server.logs, /answered 403: ACL not found \(token: CONSUL_HTTP_TOKEN_FILE .*hello-server\.token\)/);
  const passing = (): Promise<string[]> =>
    fetch(`http://${consul.address}/v1/health/service/HelloService?passing`, { headers: { 'x-consul-token': management } }).then(
      async (r) => ((await r.json()) as { Service: { ID: string } }[]).map((e) => e.Service.ID),
    );
  assert.deepEqual(await passing(), []);

  writeFileSync(tokenFile, `${serverToken}\n`);
  assert.ok(
    await eventually(async () => (await passing()).includes(server.instanceId), 20_000),
    `registered with the new token:\n${server.logs}`,
  );
  assert.equal(await sayHello(server.port), 5);
});

test('a client given the wrong CA for Consul says so in one line at start and exits 2', async () => {
  const certificates = await makeTestCertificates();
  const other = await makeTestCertificates();
  cleanups.push(async () => {
    rmSync(certificates.dir, { recursive: true, force: true });
    rmSync(other.dir, { recursive: true, force: true });
  });
  const httpsPort = await freePort();
  const consul = await ConsulDevAgent.start({
    args: [
      '-hcl',
      `ports { https = ${httpsPort} } tls { defaults { ca_file = "${certificates.ca}", cert_file = "${certificates.consul.cert}", key_file = "${certificates.consul.key}" } }`,
    ],
  });
  cleanups.push(() => consul.stop());
  const client = spawn(process.execPath, [CLIENT_MAIN], {
    env: { ...process.env, CONSUL_HTTP_ADDR: `https://127.0.0.1:${httpsPort}`, CONSUL_CACERT: other.ca, STATS_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  client.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(client, 'exit')) as [number | null];
  assert.equal(code, 2);
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(
    lines[0] ?? '',
    /^hello-client: TLS with Consul at https:\/\/127\.0\.0\.1:\d+ failed: .*certificate.* \(check CONSUL_CACERT and CONSUL_TLS_SERVER_NAME\)$/,
  );
});
