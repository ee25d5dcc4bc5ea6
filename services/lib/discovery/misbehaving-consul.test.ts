import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadHelloProto } from '../hello-proto.js';
import { registerConsulResolver } from './consul-resolver.js';

/**
 * Consul answering errors, or accepting connections and never answering:
 * calls fail with a status that names Consul, nothing crashes, and closing
 * the client closes every connection the resolver opened (no leaked watch).
 * These stand-ins play a broken Consul; discovery itself is tested against a real one.
 */
function listen(onSocket: (socket: Socket) => void): Promise<{ server: Server; port: number; open: Set<Socket> }> {
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    open.add(socket);
    // Flowing, so the socket notices (and reports) when the resolver hangs up.
    socket.resume();
    socket.on('close', () => open.delete(socket));
    onSocket(socket);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, open })),
  );
}

async function callOnce(target: string, deadlineMs: number): Promise<grpc.ServiceError> {
  const client = new (loadHelloProto().hello.HelloService)(target, grpc.credentials.createInsecure());
  try {
    return await new Promise<grpc.ServiceError>((resolve, reject) =>
      client.SayHello({ name: 'x', num1: 1, num2: 2 }, { deadline: Date.now() + deadlineMs }, (error) =>
        error ? resolve(error) : reject(new Error('a call without instances succeeded')),
      ),
    );
  } finally {
    client.close();
  }
}

registerConsulResolver();

test('Consul answering 500: the call fails UNAVAILABLE naming the Consul query, and connections close with the client', async () => {
  const broken = await listen((socket) => {
    socket.once('data', () =>
      socket.end('HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: 4\r\n\r\nboom'),
    );
  });
  try {
    // Longer than the retry policy's ~1.5 s of attempts, so the last attempt's status is what comes back.
    const error = await callOnce(`consul://127.0.0.1:${broken.port}/HelloService`, 5_000);
    assert.equal(error.code, grpc.status.UNAVAILABLE, error.message);
    assert.match(error.details, /Consul query for HelloService failed/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(broken.open.size, 0, 'no connection to Consul outlives the client');
  } finally {
    broken.server.close();
  }
});

test('Consul accepting connections and never answering: the call ends at its deadline and the watch is torn down', async () => {
  const silent = await listen(() => undefined);
  try {
    const error = await callOnce(`consul://127.0.0.1:${silent.port}/HelloService`, 1_500);
    assert.equal(error.code, grpc.status.DEADLINE_EXCEEDED, error.message);
    assert.equal(silent.open.size, 1, 'exactly one query was in flight');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(silent.open.size, 0, 'closing the client aborted the hanging query');
  } finally {
    silent.server.close();
  }
});

test('a malformed target is refused when the client is made, with the reason, not later as a hang', () => {
  // grpc-js asks the resolver for the default authority while constructing the channel.
  assert.throws(() => new (loadHelloProto().hello.HelloService)('consul:///HelloService?mode=push', grpc.credentials.createInsecure()), {
    message: /mode must be "blocking" or "poll", got "push"/,
  });
});
