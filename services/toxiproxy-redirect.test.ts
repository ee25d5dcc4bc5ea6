import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after } from 'node:test';
import { promisify } from 'node:util';
import { proxyFor, type Redirect, redirectRule, resetEstablished } from '../chaos/toxiproxy/redirect.js';
import { ToxiproxyServer } from '../chaos/toxiproxy/toxiproxy-server.js';
import { latency } from '../chaos/toxiproxy/toxics.js';
import { NetnsHost } from '../packages/testing/netns-host.js';
import { test } from '../packages/testing/timed-test.js';

/**
 * Toxiproxy put in front of a running server without changing its address or
 * restarting it, as chaos/toxiproxy/README.md recommends, in a network
 * namespace standing for its container: Toxiproxy in the same namespace, an
 * iptables REDIRECT of the server's port to the proxy's. Needs root and
 * $TOXIPROXY_BIN.
 */
const run = promisify(execFile);
const REDIRECT: Redirect = { port: 50051, proxyPort: 50052 };
const cleanups: (() => Promise<unknown> | unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A TCP echo server on every address of the namespace, as the instance listens on 0.0.0.0. */
const ECHO = `require('node:net').createServer((s) => { s.on('error', () => {}); s.pipe(s); }).listen(${REDIRECT.port}, '0.0.0.0', () => console.log('listening'))`;

async function inNamespace(host: NetnsHost, argv: readonly string[]): Promise<void> {
  await run('ip', ['netns', 'exec', host.name, ...argv]);
}

/** An open connection to the server's address, and the time each ping on it takes to come back. */
class Pinger {
  /** What ended the connection, once something did: an error's code, or its end. */
  private ended: string | undefined;
  private readonly waiting = new Set<(outcome: string) => void>();

  private constructor(private readonly socket: Socket) {
    // Always listened for: a reset between two pings is an outcome, not an uncaught error.
    const end = (outcome: string): void => {
      this.ended ??= outcome;
      for (const resolve of this.waiting) resolve(this.ended);
    };
    socket.on('error', (error: NodeJS.ErrnoException) => end(error.code ?? error.message));
    socket.on('end', () => end('end'));
    socket.on('close', () => end('closed'));
  }

  static async open(address: string): Promise<Pinger> {
    const socket = connect(REDIRECT.port, address);
    await once(socket, 'connect');
    return new Pinger(socket);
  }

  /** Round trip in ms, or what ended the connection. */
  async ping(): Promise<number | string> {
    if (this.ended !== undefined) return this.ended;
    const started = performance.now();
    return await new Promise<number | string>((resolve) => {
      const onData = (): void => done(performance.now() - started);
      const done = (outcome: number | string): void => {
        this.socket.off('data', onData);
        this.waiting.delete(done);
        resolve(outcome);
      };
      this.socket.once('data', onData);
      this.waiting.add(done);
      this.socket.write('ping');
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

async function freshPing(address: string): Promise<number | string> {
  const pinger = await Pinger.open(address);
  try {
    return await pinger.ping();
  } finally {
    pinger.close();
  }
}

test('a REDIRECT in the namespace puts Toxiproxy in front of a running server, same address; open connections reset onto it; undone, direct again', async () => {
  const host = await NetnsHost.create();
  cleanups.push(() => host.dispose());
  // As in a container's namespace on a user-defined network, where Docker's DNAT rules for its DNS
  // (127.0.0.11) have loaded conntrack before any fault: connections are tracked from their first packet.
  await inNamespace(host, [
    'iptables',
    '-w',
    '-t',
    'nat',
    '-A',
    'OUTPUT',
    '-d',
    '127.0.0.11',
    '-p',
    'udp',
    '--dport',
    '53',
    '-j',
    'DNAT',
    '--to-destination',
    '127.0.0.11:5353',
  ]);
  const echo: ChildProcess = spawn('ip', ['netns', 'exec', host.name, process.execPath, '-e', ECHO], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => echo.kill());
  await once(echo.stdout as NodeJS.ReadableStream, 'data');
  const toxiproxy = await ToxiproxyServer.start({ netns: host.name, host: host.address, port: 8474 });
  cleanups.push(() => toxiproxy.stop());

  const before = await Pinger.open(host.address);
  cleanups.push(() => before.close());
  assert.equal(typeof (await before.ping()), 'number', 'the server echoes at its address');

  // Apply: the proxy with a toxic first, then the rule, then the reset.
  await toxiproxy.api.createProxy(proxyFor('hello', REDIRECT));
  await toxiproxy.api.addToxic('hello', latency(200, 0));
  await inNamespace(host, redirectRule('-A', REDIRECT));
  const stillDirect = await before.ping();
  assert.ok(
    typeof stillDirect === 'number' && stillDirect < 100,
    `a connection opened before the rule keeps its direct path: ${stillDirect}`,
  );
  const throughProxy = await freshPing(host.address);
  assert.ok(
    typeof throughProxy === 'number' && throughProxy >= 190,
    `a new connection to the same address goes through the proxy: ${throughProxy}`,
  );

  await inNamespace(host, resetEstablished(REDIRECT.port));
  assert.match(String(await before.ping()), /^(ECONNRESET|end|closed)$/, 'the old connection was reset');
  const reconnected = await Pinger.open(host.address);
  cleanups.push(() => reconnected.close());
  const afterReset = await reconnected.ping();
  assert.ok(typeof afterReset === 'number' && afterReset >= 190, `its reconnection goes through the proxy: ${afterReset}`);

  // Undo: the rule off (-C says whether it is there), then the proxy, which closes what goes through it.
  await inNamespace(host, redirectRule('-C', REDIRECT));
  await inNamespace(host, redirectRule('-D', REDIRECT));
  await assert.rejects(inNamespace(host, redirectRule('-C', REDIRECT)), 'the rule is gone');
  const directAgain = await freshPing(host.address);
  assert.ok(typeof directAgain === 'number' && directAgain < 100, `a new connection goes direct again: ${directAgain}`);
  assert.ok(((await reconnected.ping()) as number) >= 190, 'a connection made through the proxy stays on it while the proxy lives');
  await toxiproxy.api.deleteProxy('hello');
  assert.match(String(await reconnected.ping()), /^(ECONNRESET|end|closed|EPIPE)$/, 'deleting the proxy closes the connections through it');
});
