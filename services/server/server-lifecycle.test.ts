import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ConsulDevAgent, freePort } from '@grpc-consul-lab/consul-discovery/testing';
import { loadHelloProto } from '../lib/hello-proto.js';
import { HelloProcess } from '../local/hello-process.js';
import { eventually, passingIds } from '../test-support/consul-queries.js';

// Registration edge cases against a real Consul agent and real server processes.
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
  assert.ok(await eventually(async () => (await sayHello(server.port)) === 5, 5_000), 'serves without Consul');
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
  assert.ok(await eventually(async () => (await passingIds(consul.address)).includes(patient.instanceId), 10_000));
  const inFlight = sayHello(patient.port, 5_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  patient.signal('SIGTERM');
  assert.equal(await inFlight, 5, 'the call in flight finished during the drain');
  assert.equal(await patient.waitForExit(), 0);

  const impatient = HelloProcess.start({ port: await freePort(), consulAddress: consul.address, env });
  cleanups.push(() => impatient.dispose());
  assert.ok(await eventually(async () => (await passingIds(consul.address)).includes(impatient.instanceId), 10_000));
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
