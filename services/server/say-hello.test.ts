import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { GrayFault } from '../../packages/contracts/gray-fault.js';
import { type HelloResponse, type HelloServiceClient, loadHelloProto } from '../../packages/contracts/hello.js';
import { INSTANCE_ID_METADATA_KEY } from '../../packages/contracts/hello.js';
import { MAX_NAME_BYTES, sayHelloHandler } from './say-hello.js';

// A real server and client over a real loopback socket.
const instance = { id: 'HelloService-127.0.0.1-test', address: '127.0.0.1', port: 0 };
let server: grpc.Server;
let client: HelloServiceClient;
let fault: GrayFault | undefined;

before(async () => {
  const proto = loadHelloProto();
  server = new grpc.Server();
  server.addService(proto.hello.HelloService.service, { SayHello: sayHelloHandler(instance, { grayFault: () => fault }) });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  client = new proto.hello.HelloService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

after(() => {
  client.close();
  server.forceShutdown();
});

function sayHello(request: { name: string; num1: number; num2: number }): Promise<{ response: HelloResponse; instanceId: string }> {
  return new Promise((resolve, reject) => {
    let instanceId = '';
    const call = client.SayHello(request, (error, response) => (error || !response ? reject(error) : resolve({ response, instanceId })));
    call.on('metadata', (metadata) => {
      instanceId = String(metadata.get(INSTANCE_ID_METADATA_KEY)[0] ?? '');
    });
  });
}

test('SayHello adds the numbers and names the caller and the serving instance', async () => {
  const { response, instanceId } = await sayHello({ name: 'ada', num1: 40, num2: 2 });
  assert.equal(response.result, 42);
  assert.equal(response.message, 'Hello ada, from HelloService-127.0.0.1-test at 127.0.0.1:0');
  assert.equal(instanceId, instance.id);
});

test('an empty name gets a default', async () => {
  const { response } = await sayHello({ name: '', num1: -5, num2: 3 });
  assert.equal(response.result, -2);
  assert.match(response.message, /^Hello stranger, from /);
});

test('a sum beyond int32 answers OUT_OF_RANGE', async () => {
  await assert.rejects(sayHello({ name: 'x', num1: 2 ** 31 - 1, num2: 1 }), { code: grpc.status.OUT_OF_RANGE });
  await assert.rejects(sayHello({ name: 'x', num1: -(2 ** 31), num2: -1 }), { code: grpc.status.OUT_OF_RANGE });
  const { response } = await sayHello({ name: 'x', num1: 2 ** 31 - 2, num2: 1 });
  assert.equal(response.result, 2 ** 31 - 1);
});

test(`a name over ${MAX_NAME_BYTES} bytes answers INVALID_ARGUMENT; exactly ${MAX_NAME_BYTES} is fine`, async () => {
  await assert.rejects(sayHello({ name: 'é'.repeat(MAX_NAME_BYTES / 2 + 1), num1: 1, num2: 1 }), { code: grpc.status.INVALID_ARGUMENT });
  const { response } = await sayHello({ name: 'a'.repeat(MAX_NAME_BYTES), num1: 1, num2: 1 });
  assert.equal(response.result, 2);
});

test('gray faults: corrupt answers a wrong sum, flaky fails with its code (naming the instance), slow answers late, unhealthy answers', async () => {
  try {
    fault = { kind: 'corrupt' };
    assert.equal((await sayHello({ name: 'x', num1: 40, num2: 2 })).response.result, 43);
    assert.equal((await sayHello({ name: 'x', num1: 2 ** 31 - 2, num2: 1 })).response.result, 2 ** 31 - 2, 'still an int32');

    fault = { kind: 'flaky', ratio: 1, code: 'INTERNAL' };
    await assert.rejects(sayHello({ name: 'x', num1: 1, num2: 1 }), (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.INTERNAL);
      assert.equal(String(error.metadata.get(INSTANCE_ID_METADATA_KEY)[0]), instance.id);
      return true;
    });
    fault = { kind: 'flaky', ratio: 0, code: 'UNAVAILABLE' };
    assert.equal((await sayHello({ name: 'x', num1: 1, num2: 1 })).response.result, 2);

    fault = { kind: 'slow', delayMs: 200, jitterMs: 0 };
    const startedAt = Date.now();
    assert.equal((await sayHello({ name: 'x', num1: 1, num2: 2 })).response.result, 3);
    assert.ok(Date.now() - startedAt >= 190, `answered after ${Date.now() - startedAt} ms`);

    // Health is the server's business (main.ts); the handler answers correctly.
    fault = { kind: 'unhealthy' };
    assert.equal((await sayHello({ name: 'x', num1: 2, num2: 2 })).response.result, 4);
  } finally {
    fault = undefined;
  }
});
