import { ConsulDevAgent, freePort } from '@grpc-consul-lab/consul-discovery/testing';
import { HelloProcess } from '../services/local/hello-process.js';
import { startClient } from '../services/client/in-process-client.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Part of `make bench`: SIGKILL an instance 40 times in a row (a new one
 * starts each time) with the client at 300 calls/s, and count what callers
 * saw. Calls cut after an instance's headers show up as `recovered`.
 */
const KILLS = 40;
const RATE = 300;

const consul = await ConsulDevAgent.start();
const servers: HelloProcess[] = [];
const addServer = async (): Promise<void> => {
  servers.push(HelloProcess.start({ port: await freePort(), consulAddress: consul.address, env: { GRPC_CHECK_INTERVAL_MS: '1000' } }));
};
try {
  for (let i = 0; i < 3; i += 1) await addServer();
  await sleep(2_000);
  const client = startClient({ consulAddress: consul.address, ratePerSecond: RATE });
  await sleep(2_000);
  for (let i = 0; i < KILLS; i += 1) {
    const live = servers.filter((server) => !server.exited);
    live[i % live.length]?.signal('SIGKILL');
    await addServer();
    await sleep(700);
  }
  await sleep(2_000);
  const stats = client.stats.snapshot();
  await client.stop();
  console.log(
    `\n| kills | calls | failed | wrong | recovered |\n|---|---|---|---|---|\n| ${KILLS} | ${stats.total} | ${stats.failed} | ${stats.wrong} | ${stats.recovered} |`,
  );
} finally {
  await Promise.all(servers.map((server) => server.dispose()));
  await consul.stop();
}
