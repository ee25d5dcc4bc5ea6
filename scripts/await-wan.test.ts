import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConsulDevAgent } from '@grpc-consul-lab/consul-discovery/testing';

/**
 * consul/await-wan.sh, the step of the ACL bootstrap that waits for every
 * datacenter of PROFILE=multi-dc to answer across the WAN, against real
 * agents: dc2 with dc1's gossip key joins and the step passes; dc2 with
 * another key never joins, and the step says so in one line naming dc2.
 */
const SCRIPT = fileURLToPath(new URL('../../consul/await-wan.sh', import.meta.url));
const consulBin = process.env.CONSUL_BIN ?? 'consul';
const keygen = (): string => execFileSync(consulBin, ['keygen'], { encoding: 'utf8' }).trim();

const key = keygen();
let dc1: ConsulDevAgent;
before(async () => {
  dc1 = await ConsulDevAgent.start({ datacenter: 'dc1', wan: true, args: [`-encrypt=${key}`] });
});
after(() => dc1.stop());

/** Runs the script for `datacenters`, giving them `timeoutS` to join. */
function awaitWan(timeoutS: number, ...datacenters: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('sh', [SCRIPT, ...datacenters], {
    env: {
      PATH: `${dirname(consulBin)}:${process.env.PATH ?? ''}`,
      CONSUL_HTTP_ADDR: `http://${dc1.address}`,
      WAN_JOIN_TIMEOUT_S: String(timeoutS),
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

test('dc2 with the same gossip key joins: each datacenter said to answer across the WAN, exit 0', { timeout: 60_000 }, async () => {
  const dc2 = await ConsulDevAgent.start({ datacenter: 'dc2', joinWan: [dc1.wanAddress], args: [`-encrypt=${key}`] });
  try {
    // Joining takes a few seconds; 20 s is a safety net for a loaded machine.
    const run = await awaitWan(20, 'dc1', 'dc2');
    assert.deepEqual(run, {
      code: 0,
      stdout: 'await-wan: datacenter dc1 answers across the WAN\nawait-wan: datacenter dc2 answers across the WAN\n',
      stderr: '',
    });
  } finally {
    await dc2.stop();
  }
});

test('dc2 with another gossip key never joins: one line naming dc2 and why, exit 1', { timeout: 60_000 }, async () => {
  const dc2 = await ConsulDevAgent.start({ datacenter: 'dc2', joinWan: [dc1.wanAddress], args: [`-encrypt=${keygen()}`] });
  try {
    // dc2 never joins: 4 s is how long the step waits before it says so.
    const run = await awaitWan(4, 'dc1', 'dc2');
    assert.equal(run.code, 1);
    assert.equal(run.stdout, 'await-wan: datacenter dc1 answers across the WAN\n');
    assert.equal(
      run.stderr,
      `error: [wan] datacenter dc2 has not joined the WAN of http://${dc1.address} in 4 s: its server is not in the WAN pool: its gossip key is not this one's, or it cannot be reached (its server's log says more)\n`,
    );
  } finally {
    await dc2.stop();
  }
});
