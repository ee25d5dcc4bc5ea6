import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort } from '@grpc-consul-lab/consul-discovery/testing';
import { test } from '../../packages/testing/timed-test.js';
import { eventually } from '../../packages/testing/eventually.js';

/**
 * `make local`, the supervisor: the seed's fault simulator stops every server
 * and starts each again on its port + 5. Ctrl-C in the middle of a round must
 * leave nothing running (it used to start the new servers after it had
 * stopped the old ones, and nothing stopped those).
 */
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test('Ctrl-C during a fault-simulator round stops everything, and starts nothing new', async () => {
  const basePort = await freePort();
  const consulPort = await freePort();
  const statsPort = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      SERVERS: '2',
      BASE_PORT: String(basePort),
      CONSUL_PORT: String(consulPort),
      STATS_PORT: String(statsPort),
      FAULT_EVERY_MS: '3000',
      PORT_STEP: '5',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  try {
    await eventually(() => output.includes('fault simulator: stopping every server'), 20_000, 20);
    assert.match(output, /fault simulator: stopping every server/, 'a round started');
    assert.match(output, /listens on 127\.0\.0\.1 only/, 'local mode says where it listens');
    // The old servers are draining (about a second): Ctrl-C now.
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, output.slice(-2_000));
    assert.match(output, /everything stopped/);
    const ports = {
      server1: basePort,
      server2: basePort + 1,
      movedServer1: basePort + 5,
      movedServer2: basePort + 6,
      consul: consulPort,
      client: statsPort,
    };
    const stillListening = [];
    for (const [what, port] of Object.entries(ports)) if (await listening(port)) stillListening.push(`${what} (${port})`);
    assert.deepEqual(stillListening, [], `nothing may be left listening:\n${output.slice(-2_000)}`);
  } finally {
    child.kill('SIGKILL');
  }
});
