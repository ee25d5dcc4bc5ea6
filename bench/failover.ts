import { rmSync } from 'node:fs';
import { ConsulDevAgent } from '@grpc-consul-lab/consul-discovery/testing';
import type { HelloProcess } from '../services/local/hello-process.js';
import { passingToFirstCallMs } from '../packages/testing/consul-queries.js';
import { eventually } from '../packages/testing/eventually.js';
import { consulTlsForChecks, makeTestCertificates, type TestCertificates } from '../packages/testing/test-certificates.js';
import { ProcessCluster } from './support/process-cluster.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { printTable } from './support/table.js';

/**
 * `make bench`: failover measured, not asserted. 3 server processes, a real
 * Consul agent, the real client at 200 calls/s, gRPC over mutual TLS as in
 * the compose stack; one fault at a time; for the blocking watch and for the
 * seed's 500 ms polling; the keepalive trade-off (frozen-instance detection
 * vs graceful drain, grpc-node #3068); and what TLS costs in latency.
 */
const RATE = 200;
const STEADY_MS = 15_000;
const certificates: TestCertificates = await makeTestCertificates();

interface Row {
  readonly setup: string;
  readonly fault: string;
  readonly calls: number;
  readonly failed: number;
  readonly wrong: number;
  readonly measure: string;
}

async function measureFault(
  cluster: ProcessCluster,
  setup: string,
  fault: string,
  act: () => Promise<string>,
  settleMs: number,
): Promise<Row> {
  const before = cluster.client.stats.snapshot();
  const measure = await act();
  await sleep(settleMs);
  const after = cluster.client.stats.snapshot();
  return {
    setup,
    fault,
    calls: after.total - before.total,
    failed: after.failed - before.failed,
    wrong: after.wrong - before.wrong,
    measure,
  };
}

async function timeUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<string> {
  const started = Date.now();
  return (await eventually(condition, timeoutMs, 5)) ? `${Date.now() - started} ms` : `> ${timeoutMs} ms`;
}

/** Signals the oldest live instance and times how long the resolver takes to drop it. */
async function signalAndTimeDrop(cluster: ProcessCluster, signal: NodeJS.Signals): Promise<string> {
  const victim = cluster.live()[0] as HelloProcess;
  victim.signal(signal);
  return `dropped by resolver after ${await timeUntil(() => !cluster.resolvedIds().includes(victim.instanceId), 20_000)}`;
}

async function discoveryRuns(consul: ConsulDevAgent, setup: string, target: string): Promise<Row[]> {
  const cluster = new ProcessCluster({ consul, certificates });
  const rows: Row[] = [];
  try {
    for (let i = 0; i < 3; i += 1) await cluster.addServer();
    // The client starts once Consul lists exactly these instances: the previous
    // run's SIGKILLed ones pass for about a second after the kill, and a client
    // that knows only those (the new ones not yet passing) has nowhere to call.
    await cluster.passingAreLive();
    cluster.startClient({ ratePerSecond: RATE, target });
    await cluster.settled();
    await sleep(2_000);

    rows.push(await measureFault(cluster, setup, 'SIGKILL one', () => signalAndTimeDrop(cluster, 'SIGKILL'), 2_000));
    await cluster.addServer();
    await cluster.settled();

    rows.push(await measureFault(cluster, setup, 'SIGTERM one', () => signalAndTimeDrop(cluster, 'SIGTERM'), 2_000));

    rows.push(
      await measureFault(
        cluster,
        setup,
        'new instance',
        async () => {
          const newcomer = await cluster.addServer();
          const delay = await passingToFirstCallMs({
            consulAddress: consul.address,
            instanceId: newcomer.instanceId,
            firstOkAt: () => cluster.client.stats.snapshot().firstOkAtByInstance[newcomer.instanceId],
          });
          return delay === undefined ? 'never called' : `first call ${delay} ms after passing health`;
        },
        1_000,
      ),
    );

    rows.push(
      await measureFault(
        cluster,
        setup,
        'SIGSTOP one 10 s',
        async () => {
          const victim = cluster.live()[0] as HelloProcess;
          victim.signal('SIGSTOP');
          const dropped = await timeUntil(() => !cluster.resolvedIds().includes(victim.instanceId), 10_000);
          await sleep(Math.max(0, 10_000 - Number.parseInt(dropped, 10)));
          victim.signal('SIGCONT');
          return `dropped by resolver after ${dropped}`;
        },
        3_000,
      ),
    );
    const latency = cluster.client.stats.snapshot().latencyMs;
    rows.push({
      setup,
      fault: 'whole run',
      calls: cluster.client.stats.snapshot().total,
      failed: cluster.client.stats.snapshot().failed,
      wrong: cluster.client.stats.snapshot().wrong,
      measure: `latency p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms`,
    });
  } finally {
    await cluster.dispose();
  }
  return rows;
}

async function keepaliveRuns(consul: ConsulDevAgent, keepalive: boolean): Promise<Row[]> {
  const setup = keepalive ? 'keepalive 1 s / 1 s' : 'no keepalive';
  const rows: Row[] = [];
  // Slow handlers make the drain matter: 2.5 s per call, as in grpc-node #3068.
  const cluster = new ProcessCluster({ consul, certificates, serverEnv: { HANDLER_DELAY_MS: '2500', SHUTDOWN_GRACE_MS: '10000' } });
  try {
    for (let i = 0; i < 3; i += 1) await cluster.addServer();
    cluster.startClient({ ratePerSecond: 40, keepalive });
    await cluster.settled();
    await sleep(3_000);
    rows.push(
      await measureFault(
        cluster,
        setup,
        'SIGTERM one, 2.5 s handlers',
        async () => {
          const victim = cluster.live()[0] as HelloProcess;
          victim.signal('SIGTERM');
          await victim.waitForExit();
          return 'drain of in-flight calls';
        },
        3_000,
      ),
    );
    await cluster.addServer();
    await cluster.settled();
    rows.push(
      await measureFault(
        cluster,
        setup,
        'SIGSTOP one 10 s, 2.5 s handlers',
        async () => {
          const victim = cluster.live()[0] as HelloProcess;
          const before = cluster.client.stats.snapshot().latencyMs.max;
          victim.signal('SIGSTOP');
          await sleep(10_000);
          victim.signal('SIGCONT');
          return `max latency ${Math.max(before, cluster.client.stats.snapshot().latencyMs.max)} ms`;
        },
        4_000,
      ),
    );
  } finally {
    await cluster.dispose();
  }
  return rows;
}

/** Steady latency with 3 instances at RATE, over mutual TLS or in plaintext, one after the other in the same run. */
async function tlsCostRuns(consul: ConsulDevAgent): Promise<Row[]> {
  const rows: Row[] = [];
  for (const tls of [false, true]) {
    const cluster = new ProcessCluster({ consul, certificates, tls });
    try {
      for (let i = 0; i < 3; i += 1) await cluster.addServer();
      await cluster.passingAreLive();
      cluster.startClient({ ratePerSecond: RATE });
      await cluster.settled();
      await sleep(2_000);
      const before = cluster.client.stats.snapshot();
      await sleep(STEADY_MS);
      const after = cluster.client.stats.snapshot();
      // The latency window holds the last 4,096 calls: at 200 calls/s, about the steady period.
      rows.push({
        setup: tls ? 'mutual TLS' : 'plaintext',
        fault: `none, ${STEADY_MS / 1_000} s steady`,
        calls: after.total - before.total,
        failed: after.failed - before.failed,
        wrong: after.wrong - before.wrong,
        measure: `latency p50 ${after.latencyMs.p50} ms, p99 ${after.latencyMs.p99} ms`,
      });
    } finally {
      await cluster.dispose();
      await sleep(2_000);
    }
  }
  return rows;
}

// Consul's gRPC checks of the instances go over TLS with its own certificate, as in the compose stack.
const consul = await ConsulDevAgent.start({ args: consulTlsForChecks(certificates) });
try {
  const only = process.env.BENCH_ONLY;
  const rows =
    only === 'poll'
      ? await discoveryRuns(consul, 'poll 500 ms (seed)', 'consul:///HelloService?mode=poll&interval=500ms')
      : [
          ...(await discoveryRuns(consul, 'blocking query', 'consul:///HelloService')),
          ...(await discoveryRuns(consul, 'poll 500 ms (seed)', 'consul:///HelloService?mode=poll&interval=500ms')),
          ...(await keepaliveRuns(consul, true)),
          ...(await keepaliveRuns(consul, false)),
          ...(await tlsCostRuns(consul)),
        ];
  console.log(
    `\nFailover at ${RATE} calls/s over mutual TLS (keepalive rows: 40 calls/s, 2.5 s handlers), 3 instances, Consul ${consul.address}\n`,
  );
  printTable(
    ['setup', 'fault', 'calls', 'failed', 'wrong', 'measured'],
    rows.map((row) => [row.setup, row.fault, String(row.calls), String(row.failed), String(row.wrong), row.measure]),
  );
} finally {
  await consul.stop();
  rmSync(certificates.dir, { recursive: true, force: true });
}
