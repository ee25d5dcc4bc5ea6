import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, test as nodeTest, type TestContext } from 'node:test';
import { ToxiproxyError } from './toxiproxy-api.js';
import { ToxiproxyServer } from './toxiproxy-server.js';
import { bandwidth, blackhole, latency, resetPeer } from './toxics.js';

/**
 * The toxics the network faults use, on a real toxiproxy-server
 * ($TOXIPROXY_BIN: scripts/ensure-toxiproxy.sh) in front of a TCP server on
 * loopback: each shows in what a client measures, shows in the toxics
 * Toxiproxy reports, and is gone once removed.
 */
const test = (name: string, fn: (t: TestContext) => Promise<void>): Promise<void> => nodeTest(name, { timeout: 30_000 }, fn);

/** 1 MB the server sends on each connection that writes "download". */
const DOWNLOAD_BYTES = 1_000_000;

let toxiproxy: ToxiproxyServer;
let upstream: Server;
let upstreamPort: number;
const open = new Set<Socket>();

/** Echoes each chunk; "download" gets DOWNLOAD_BYTES instead. */
function echoServer(): Server {
  return createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      if (chunk.toString() === 'download') socket.end(Buffer.alloc(DOWNLOAD_BYTES, 1));
      else socket.write(chunk);
    });
  });
}

before(async () => {
  upstream = echoServer();
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  upstreamPort = (upstream.address() as { port: number }).port;
  toxiproxy = await ToxiproxyServer.start();
});

after(async () => {
  await toxiproxy.stop();
  for (const socket of open) socket.destroy();
  upstream.close();
});

/** A proxy of its own for each test, on a port Toxiproxy picks; removed when the test ends. */
async function proxyFor(t: TestContext): Promise<{ name: string; port: number }> {
  const name = `p${Math.random().toString(36).slice(2, 8)}`;
  const state = await toxiproxy.api.createProxy({ name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${upstreamPort}` });
  t.after(() => toxiproxy.api.deleteProxy(name));
  return { name, port: Number(state.listen.split(':').pop()) };
}

async function connected(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

/** Milliseconds from writing a ping to its echo, on a new connection. */
async function roundTripMs(port: number): Promise<number> {
  const socket = await connected(port);
  try {
    const started = performance.now();
    socket.write('ping');
    await once(socket, 'data');
    return performance.now() - started;
  } finally {
    socket.destroy();
  }
}

async function median(samples: () => Promise<number>, count: number): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < count; i += 1) values.push(await samples());
  values.sort((a, b) => a - b);
  return values[Math.floor(count / 2)] as number;
}

/** Milliseconds to receive DOWNLOAD_BYTES on a new connection. */
async function downloadMs(port: number): Promise<number> {
  const socket = await connected(port);
  const started = performance.now();
  let received = 0;
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  socket.write('download');
  await once(socket, 'end');
  socket.destroy();
  assert.equal(received, DOWNLOAD_BYTES);
  return performance.now() - started;
}

/** What happens to a ping on a new connection within `waitMs`: its echo, the connection's error, its end, or nothing. */
async function pingOutcome(port: number, waitMs: number): Promise<string> {
  const socket = await connected(port);
  try {
    socket.write('ping');
    return await new Promise<string>((resolve) => {
      socket.once('data', (chunk) => resolve(`echo ${chunk.toString()}`));
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code ?? error.message}`));
      socket.once('end', () => resolve('end'));
      setTimeout(() => resolve('nothing'), waitMs);
    });
  } finally {
    socket.destroy();
  }
}

test('no toxic: the proxy passes the bytes through', async (t) => {
  const { port } = await proxyFor(t);
  assert.equal(await pingOutcome(port, 2_000), 'echo ping');
});

test('latency 200 ms ± 20: each round trip ~200 ms longer; read back, then removed, as direct again', async (t) => {
  const { name, port } = await proxyFor(t);
  const direct = await median(() => roundTripMs(upstreamPort), 5);
  await toxiproxy.api.addToxic(name, latency(200, 20));
  assert.deepEqual(await toxiproxy.api.toxics(name), [latency(200, 20)]);
  const slowed = await median(() => roundTripMs(port), 5);
  // ± 20 ms of jitter, and loopback and 2 busy cores: generous bounds, well clear of both 0 and 400.
  assert.ok(slowed - direct >= 170 && slowed - direct <= 400, `direct ${direct.toFixed(1)} ms, through latency ${slowed.toFixed(1)} ms`);
  await toxiproxy.api.removeToxic(name, 'latency');
  assert.deepEqual(await toxiproxy.api.toxics(name), []);
  const restored = await median(() => roundTripMs(port), 5);
  assert.ok(restored < 100, `through the proxy once removed: ${restored.toFixed(1)} ms`);
});

test('bandwidth 500 KB/s: 1 MB takes about 2 s instead of milliseconds', async (t) => {
  const { name, port } = await proxyFor(t);
  const unlimited = await downloadMs(port);
  await toxiproxy.api.addToxic(name, bandwidth(500));
  const limited = await downloadMs(port);
  // Toxiproxy's KB is 1000 bytes: 2 s at the rate; below it would mean no cap.
  assert.ok(unlimited < 1_000, `unlimited: ${unlimited.toFixed(0)} ms`);
  assert.ok(limited >= 1_800 && limited <= 5_000, `at 500 KB/s: ${limited.toFixed(0)} ms for 1 MB`);
  await toxiproxy.api.removeToxic(name, 'bandwidth');
  const restored = await downloadMs(port);
  assert.ok(restored < 1_000, `once removed: ${restored.toFixed(0)} ms`);
});

test('reset_peer: a connection is reset by peer as soon as it sends; removed, echoed again', async (t) => {
  const { name, port } = await proxyFor(t);
  await toxiproxy.api.addToxic(name, resetPeer());
  assert.equal(await pingOutcome(port, 2_000), 'error ECONNRESET');
  await toxiproxy.api.removeToxic(name, 'reset-peer');
  assert.equal(await pingOutcome(port, 2_000), 'echo ping');
});

test('blackhole (timeout 0): connections accepted, nothing answered, none closed; removed, echoed again', async (t) => {
  const { name, port } = await proxyFor(t);
  await toxiproxy.api.addToxic(name, blackhole());
  assert.deepEqual(await toxiproxy.api.toxics(name), [blackhole()]);
  // Accepted (connected() resolves), and in 1.5 s neither an echo nor a close.
  assert.equal(await pingOutcome(port, 1_500), 'nothing');
  await toxiproxy.api.removeToxic(name, 'blackhole');
  assert.equal(await pingOutcome(port, 2_000), 'echo ping');
});

test('Toxiproxy refuses a request: one line with its reason and status', async (t) => {
  const { name } = await proxyFor(t);
  await assert.rejects(
    toxiproxy.api.createProxy({ name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${upstreamPort}` }),
    new ToxiproxyError(`Toxiproxy at ${toxiproxy.api.url} refused POST /proxies: proxy already exists (HTTP 409)`),
  );
  await assert.rejects(
    toxiproxy.api.removeToxic(name, 'none'),
    new ToxiproxyError(`Toxiproxy at ${toxiproxy.api.url} refused DELETE /proxies/${name}/toxics/none: toxic not found (HTTP 404)`),
  );
});

test('a Toxiproxy process that stopped answering (SIGSTOP): one line naming it after the time limit', async () => {
  const frozen = await ToxiproxyServer.start();
  try {
    process.kill(frozen.pid as number, 'SIGSTOP');
    await assert.rejects(frozen.api.version(), (error) => {
      assert.ok(error instanceof ToxiproxyError);
      assert.equal(error.message, `Toxiproxy at ${frozen.api.url} does not answer (GET /version: no answer within 2000 ms)`);
      return true;
    });
  } finally {
    process.kill(frozen.pid as number, 'SIGCONT');
    await frozen.stop();
  }
});
