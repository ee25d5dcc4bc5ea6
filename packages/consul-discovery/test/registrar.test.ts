import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { ConsulHttp, ConsulRegistrar, type RegistrarOptions } from '../src/index.js';
import { ConsulDevAgent } from '../src/testing/index.js';
import { aclAgentArgs, consulRequest, createToken, eventually, passingIds } from './support/consul-api.js';
import { CountingProxy } from '../src/testing/index.js';
import { type EchoServer, startEchoServer } from './support/echo-server.js';
import { recordingLogger } from './support/recording-logger.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from './support/timed-test.js';

/** The registrar against real Consul agents. Each wait's limit is a safety net for a loaded machine, not a measure of how soon. */
let consul: ConsulDevAgent;
let echo: EchoServer;
const dir = mkdtempSync(join(tmpdir(), 'registrar-'));
const cleanups: (() => Promise<void> | void)[] = [];

before(async () => {
  consul = await ConsulDevAgent.start();
  echo = await startEchoServer('HelloEcho-1');
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  echo?.stop();
  await consul?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Whether the agent holds `serviceId` in maintenance (Consul's own check for it). */
async function inMaintenance(address: string, serviceId: string): Promise<boolean> {
  const checks = (await consulRequest(address, 'GET', '/v1/agent/checks')) as Record<string, { CheckID: string; ServiceID: string }>;
  return Object.values(checks).some((check) => check.ServiceID === serviceId && check.CheckID.startsWith('_service_maintenance'));
}

function registrar(options: Partial<RegistrarOptions> & Pick<RegistrarOptions, 'consul'>): ConsulRegistrar {
  const made = new ConsulRegistrar({
    service: { name: 'HelloEcho', id: echo.name, port: echo.port, address: '127.0.0.1' },
    checks: { ttlMs: 4_000, grpc: { intervalMs: 1_000 } },
    ...options,
  });
  cleanups.push(() => made.stop(500));
  return made;
}

test('registers with a TTL check and a gRPC check, both pass; stop deregisters', async () => {
  const registration = registrar({ consul: { address: consul.address, env: {} } });
  registration.start();
  assert.ok(
    await eventually(async () => (await passingIds(consul.address, 'HelloEcho')).includes(echo.name), 20_000),
    'both checks passing',
  );
  const checks = (await consulRequest(consul.address, 'GET', `/v1/agent/checks`)) as Record<
    string,
    { ServiceID: string; Type: string; Status: string }
  >;
  assert.deepEqual(
    Object.values(checks)
      .filter((check) => check.ServiceID === echo.name)
      .map((check) => `${check.Type} ${check.Status}`)
      .sort(),
    ['grpc passing', 'ttl passing'],
  );
  await registration.stop();
  assert.deepEqual(await passingIds(consul.address, 'HelloEcho'), []);
  assert.equal(registration.state, 'stopped');
});

test('a Consul that forgot everything (a dev agent restarted) gets the registration again', async () => {
  const logger = recordingLogger();
  const registration = registrar({ consul: { address: consul.address, env: {} }, logger });
  registration.start();
  assert.ok(await eventually(async () => (await passingIds(consul.address, 'HelloEcho')).includes(echo.name), 20_000));
  await consul.restart();
  // The heartbeat (every TTL/4 = 1 s) meets the new agent and registers again; passing after the gRPC check's first run.
  assert.ok(await eventually(async () => (await passingIds(consul.address, 'HelloEcho')).includes(echo.name), 20_000), 'registered again');
  // It noticed, and said so: 'lost' when its heartbeat met the new agent (404), 'unreachable'
  // when it met the restart itself (measured once in a full run on 2 busy cores); registered after either.
  const messages = logger.lines.map((line) => line.message);
  const noticed = messages.findIndex((message, i) => i >= 2 && (message === 'registration lost' || message === 'registration unreachable'));
  assert.ok(noticed >= 2 && messages.slice(noticed).includes('registration registered'), JSON.stringify(messages));
  await registration.stop();
});

test('an agent that takes a registration after the request timed out: the copy it holds is removed once the registration is made elsewhere', async () => {
  // Two agents; the first acts on a registration but answers only after the
  // caller gave up (as an agent with no leader does). Found in a quorum loss.
  const late = await ConsulDevAgent.start();
  const proxy = await CountingProxy.start({ host: '127.0.0.1', port: late.httpPort });
  cleanups.push(
    () => late.stop(),
    () => proxy.close(),
  );
  proxy.holdAnswers('PUT', '/v1/agent/service/register', 3_000);
  const logger = recordingLogger();
  const http = new ConsulHttp({ address: `http://${proxy.address},${consul.address}`, requestTimeoutMs: 1_000, env: {} }, 0);
  cleanups.push(() => http.close());
  const registration = registrar({ consul: http, logger, checks: { ttlMs: 4_000, heartbeatMs: 1_000, grpc: { intervalMs: 1_000 } } });
  registration.start();
  assert.ok(
    await eventually(async () => (await passingIds(consul.address, 'HelloEcho')).includes(echo.name), 20_000),
    'registered on the agent that answers',
  );
  const heldBy = async (address: string): Promise<string[]> =>
    Object.keys((await consulRequest(address, 'GET', '/v1/agent/services')) as Record<string, unknown>);
  assert.ok(
    await eventually(async () => !(await heldBy(late.address)).includes(echo.name), 20_000),
    `the late agent's copy was removed: ${JSON.stringify(logger.lines.map((line) => line.message))}`,
  );
  assert.ok((await heldBy(consul.address)).includes(echo.name));
  await registration.stop();
});

test('a refused token: one line naming the ACL refusal, backoff instead of a spin, and registration once the token file holds a valid token', async () => {
  const management = 'c0ffee00-0000-4000-8000-0000000000aa';
  const secured = await ConsulDevAgent.start({ args: aclAgentArgs(management) });
  cleanups.push(() => secured.stop());
  const serverToken = 'eeeeeeee-0000-4000-8000-00000000000e';
  await createToken(
    secured.address,
    management,
    'hello-echo-server',
    'service "HelloEcho" { policy = "write" }\nnode_prefix "" { policy = "read" }',
    serverToken,
  );
  const proxy = await CountingProxy.start({ host: '127.0.0.1', port: secured.httpPort });
  cleanups.push(() => proxy.close());
  const tokenFile = join(dir, 'server.token');
  writeFileSync(tokenFile, '00000000-0000-4000-8000-000000000000\n');
  const logger = recordingLogger();
  const registration = registrar({ consul: { address: proxy.address, tokenFile, env: {} }, logger });
  registration.start();
  await sleep(3_000);
  assert.equal(registration.state, 'refused');
  const refusals = logger.lines.filter((line) => line.message === 'registration refused');
  assert.equal(refusals.length, 1, 'the refusal is logged once');
  assert.match(JSON.stringify(refusals[0]?.fields), /answered 403: ACL not found.*token file .*server\.token/);
  const attempts = proxy.count('/v1/agent/service/register');
  // Backoff 250 ms doubling, capped at the heartbeat: about 4 attempts in 3 s, never a spin.
  assert.ok(attempts >= 2 && attempts <= 6, `registration attempts in 3 s: ${attempts}`);

  // The token file is looked at every 0.5 s while refused: the new token is taken up without a restart.
  writeFileSync(tokenFile, `${serverToken}\n`);
  assert.ok(
    await eventually(async () => (await passingIds(secured.address, 'HelloEcho', management)).includes(echo.name), 20_000),
    'registered with the new token',
  );
  assert.equal(registration.state, 'registered');
  await registration.stop();
});

test('drain(): NOT_SERVING and Consul maintenance take the instance out first, then the server shuts down and the registration goes', async () => {
  const registration = registrar({ consul: { address: consul.address, env: {} } });
  registration.start();
  assert.ok(await eventually(async () => (await passingIds(consul.address, 'HelloEcho')).includes(echo.name), 20_000));
  const drainServer = await startEchoServer('drained');
  let notServingAt = 0;
  let shutDownAt = 0;
  const draining = registration.drain({
    setNotServing: () => {
      notServingAt = Date.now();
    },
    propagationMs: 1_000,
    server: {
      tryShutdown: (done) => {
        shutDownAt = Date.now();
        drainServer.server.tryShutdown(done);
      },
      forceShutdown: () => drainServer.server.forceShutdown(),
    },
  });
  let outAt = 0;
  assert.ok(
    await eventually(
      async () => {
        if (!(await passingIds(consul.address, 'HelloEcho')).includes(echo.name)) outAt = Date.now();
        return outAt > 0;
      },
      20_000,
      20,
    ),
    'out of the passing set',
  );
  assert.ok(await inMaintenance(consul.address, echo.name), 'in maintenance');
  await draining;
  assert.ok(notServingAt > 0 && shutDownAt - notServingAt >= 1_000, `shutdown ${shutDownAt - notServingAt} ms after NOT_SERVING`);
  // Seen out (outAt is when the poll saw it, so later than it happened) before the shutdown, one propagation after.
  assert.ok(outAt <= shutDownAt, `out of the passing set ${outAt - shutDownAt} ms after the shutdown`);
  assert.equal(registration.state, 'stopped');
  const left = (await consulRequest(consul.address, 'GET', '/v1/agent/services')) as Record<string, unknown>;
  assert.ok(!(echo.name in left), 'deregistered');
});

test('drain() while the first registration is under way waits for it, then takes the instance out of rotation', async () => {
  const proxy = await CountingProxy.start({ host: '127.0.0.1', port: consul.httpPort });
  cleanups.push(() => proxy.close());
  // Consul takes the registration at once; its answer reaches the registrar 4 s later (room for busy cores to see it land first).
  proxy.holdAnswers('PUT', '/v1/agent/service/register', 4_000);
  const registration = registrar({ consul: { address: proxy.address, env: {} }, checks: { ttlMs: 10_000 } });
  registration.start();
  assert.ok(await eventually(() => proxy.count('/v1/agent/service/register') === 1, 20_000, 10), 'the registration is under way');
  const draining = registration.drain({ propagationMs: 3_000 });
  assert.ok(
    await eventually(async () => (await passingIds(consul.address, 'HelloEcho')).includes(echo.name), 3_500, 20),
    'Consul took the registration (passing) while its answer is held',
  );
  assert.ok(await eventually(() => inMaintenance(consul.address, echo.name), 20_000), 'in maintenance once the registration landed');
  assert.ok(!(await passingIds(consul.address, 'HelloEcho')).includes(echo.name), 'out of rotation while draining');
  await draining;
  assert.equal(registration.state, 'stopped');
  const left = (await consulRequest(consul.address, 'GET', '/v1/agent/services')) as Record<string, unknown>;
  assert.ok(!(echo.name in left), 'deregistered');
});

test('an id its previous life left in maintenance (a drain the agent kept, the deregistration lost): registering takes it out, the instance passes (regression)', async () => {
  // The previous life: registered, drained into maintenance, then gone without deregistering.
  const definition = { ID: echo.name, Name: 'HelloEcho', Address: '127.0.0.1', Port: echo.port };
  await consulRequest(consul.address, 'PUT', '/v1/agent/service/register', definition);
  await consulRequest(consul.address, 'PUT', `/v1/agent/service/maintenance/${echo.name}?enable=true&reason=drained`);
  assert.ok(await inMaintenance(consul.address, echo.name), 'the premise: the id is in maintenance');

  const registration = registrar({ consul: { address: consul.address, env: {} } });
  registration.start();
  assert.ok(
    await eventually(async () => (await passingIds(consul.address, 'HelloEcho')).includes(echo.name), 20_000),
    'passing once registered again',
  );
  assert.equal(await inMaintenance(consul.address, echo.name), false);
  await registration.stop(500);
});

test("the gRPC check asks for the server's overall status ('') by default, so a stock health server passes; healthService asks for another name", async () => {
  const stock = await startEchoServer('HelloEcho-stock', ['']);
  cleanups.push(() => stock.stop());
  const service = { name: 'HelloEcho', port: stock.port, address: '127.0.0.1' };
  const byDefault = registrar({ consul: { address: consul.address, env: {} }, service: { ...service, id: 'HelloEcho-stock' } });
  const byName = registrar({
    consul: { address: consul.address, env: {} },
    service: { ...service, id: 'HelloEcho-stock-named' },
    checks: { ttlMs: 4_000, grpc: { intervalMs: 1_000, healthService: 'HelloEcho-stock-named' } },
  });
  byDefault.start();
  byName.start();
  assert.ok(
    await eventually(async () => (await passingIds(consul.address, 'HelloEcho')).includes('HelloEcho-stock'), 20_000),
    'passing with the default options',
  );
  const namedCheck = async (): Promise<{ Status: string; Output: string } | undefined> =>
    ((await consulRequest(consul.address, 'GET', '/v1/agent/checks')) as Record<string, { Status: string; Output: string }>)[
      'HelloEcho-stock-named:grpc'
    ];
  assert.ok(await eventually(async () => ((await namedCheck())?.Output ?? '') !== '', 20_000), 'the named check ran');
  const check = await namedCheck();
  assert.equal(check?.Status, 'critical', check?.Output);
  assert.match(check?.Output ?? '', /HelloEcho-stock-named/);
  await Promise.all([byDefault.stop(), byName.stop()]);
});
