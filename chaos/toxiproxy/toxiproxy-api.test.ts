import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { ToxiproxyApi, ToxiproxyError } from './toxiproxy-api.js';

/** What a caller prints: one line, naming Toxiproxy's address. */
function assertOneLineNaming(error: unknown, url: string, pattern: RegExp): true {
  assert.ok(error instanceof ToxiproxyError, `not a ToxiproxyError: ${String(error)}`);
  assert.ok(!error.message.includes('\n'), `more than one line: ${error.message}`);
  assert.ok(error.message.includes(url), `does not name ${url}: ${error.message}`);
  assert.match(error.message, pattern);
  return true;
}

async function listening(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

test('a Toxiproxy address nobody listens on: one line naming it, the request and the refusal', async () => {
  const server = createServer();
  const port = await listening(server);
  server.close();
  await once(server, 'close');
  const url = `http://127.0.0.1:${port}`;
  const api = new ToxiproxyApi(url);
  await assert.rejects(api.version(), (error) =>
    assertOneLineNaming(error, url, /^Toxiproxy at \S+ does not answer \(GET \/version: .*ECONNREFUSED/),
  );
});

test('a Toxiproxy that accepts and never answers: one line after the time limit, not a hang', async () => {
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));
  const port = await listening(silent);
  const url = `http://127.0.0.1:${port}`;
  try {
    const started = Date.now();
    await assert.rejects(
      new ToxiproxyApi(url, 300).addToxic('hello', {
        name: 'x',
        type: 'latency',
        stream: 'downstream',
        toxicity: 1,
        attributes: { latency: 1, jitter: 0 },
      }),
      (error) => assertOneLineNaming(error, url, /does not answer \(POST \/proxies\/hello\/toxics: no answer within 300 ms\)$/),
    );
    const took = Date.now() - started;
    assert.ok(took >= 290 && took < 2_000, `gave up after ${took} ms`);
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
});

test('an address that is not an http URL is refused when the client is made, naming it', () => {
  for (const url of ['127.0.0.1:8474', 'tcp://127.0.0.1:8474', '']) {
    assert.throws(
      () => new ToxiproxyApi(url),
      (error) => {
        assert.ok(error instanceof ToxiproxyError);
        assert.equal(error.message, `Toxiproxy's address '${url}' is not an http(s) URL (example: http://127.0.0.1:8474)`);
        return true;
      },
    );
  }
});
