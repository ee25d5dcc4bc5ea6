import { parseConsulTargetString, resolveConnection, sharedWatches } from '@grpc-consul-lab/consul-discovery';
import type { ConsulDevAgent } from '@grpc-consul-lab/consul-discovery/testing';
import * as grpc from '@grpc/grpc-js';
import { eventually } from '../../packages/testing/eventually.js';
import type { TestCertificates } from '../../packages/testing/test-certificates.js';
import { PassingTimes } from './passing-times.js';
import { ProcessCluster } from './process-cluster.js';

/**
 * New instance passing -> its first call, as the demo runs it: the client's
 * own service config (weighted round robin under outlier detection), mutual
 * TLS, server processes. Each event is split where the time goes:
 *  - Consul: passing (the first answer that lists it, to the bench's own
 *    blocking query or the client's) -> the client's watch hands the set on
 *    (the library: query pacing, blocking or polling);
 *  - grpc-js: that hand-over -> the subchannel READY (TCP, TLS, HTTP/2
 *    settings), timed only when run with GRPC_TRACE=subchannel
 *    GRPC_VERBOSITY=DEBUG (grpc-js reads them at start);
 *  - the call: READY (or the hand-over) -> the first correct answer (the
 *    picker, the next call of the loop, the call itself).
 */
export interface FirstCallEvent {
  readonly passingToFirstCallMs: number;
  readonly passingToPushMs: number;
  readonly pushToReadyMs: number | undefined;
  readonly readyToFirstCallMs: number | undefined;
  readonly pushToFirstCallMs: number;
}

export interface FirstCallOptions {
  readonly consul: ConsulDevAgent;
  readonly certificates: TestCertificates;
  readonly target: string;
  readonly ratePerSecond: number;
  readonly events: number;
}

/** The moments grpc-js's subchannel trace says an address became READY (empty without the trace). */
function readyTimes(): Map<string, number> {
  const ready = new Map<string, number>();
  const env = (name: string): string => process.env[`GRPC_NODE_${name}`] ?? process.env[`GRPC_${name}`] ?? '';
  const tracers = env('TRACE').split(',');
  if (!(tracers.includes('subchannel') || tracers.includes('all')) || env('VERBOSITY') !== 'DEBUG') return ready;
  grpc.setLogger({
    error: (...args: unknown[]) => {
      const line = args.join(' ');
      const match = / (\S+:\d+) CONNECTING -> READY$/.exec(line);
      if (match?.[1]) {
        if (!ready.has(match[1])) ready.set(match[1], Date.now());
      } else if (!line.includes(' | subchannel')) console.error(line);
    },
  });
  return ready;
}

export async function measureFirstCalls({ consul, certificates, target, ratePerSecond, events }: FirstCallOptions): Promise<{
  readonly events: FirstCallEvent[];
  readonly failed: number;
  readonly watches: number;
}> {
  const ready = readyTimes();
  const passing = PassingTimes.start(consul.address);
  // Joins the client's own watch (same connection, query and tuning): told the set at the moment its resolver is.
  const pushedAt = new Map<string, number>();
  const subscription = sharedWatches.subscribe(
    resolveConnection({ address: consul.address, env: {} }),
    parseConsulTargetString(target).spec,
    (event) => {
      if (event.kind !== 'instances') return;
      for (const instance of event.instances) if (!pushedAt.has(instance.id)) pushedAt.set(instance.id, Date.now());
    },
  );
  const cluster = new ProcessCluster({ consul, certificates });
  const measured: FirstCallEvent[] = [];
  let watches = 0;
  try {
    for (let i = 0; i < 3; i += 1) await cluster.addServer();
    await cluster.passingAreLive();
    cluster.startClient({ ratePerSecond, target });
    await cluster.settled();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    for (let i = 0; i < events; i += 1) {
      const newcomer = await cluster.addServer();
      const firstOkAt = (): number | undefined => cluster.client.stats.snapshot().firstOkAtByInstance[newcomer.instanceId];
      if (await eventually(() => firstOkAt() !== undefined, 15_000, 10)) {
        watches = Math.max(watches, sharedWatches.size);
        const pushed = pushedAt.get(newcomer.instanceId);
        // Consul's answer reaches both blocking queries at once; on a busy event loop either may be read first.
        const passed = Math.min(passing.at(newcomer.instanceId) ?? Number.POSITIVE_INFINITY, pushed ?? Number.POSITIVE_INFINITY);
        const first = firstOkAt() as number;
        const readyAt = ready.get(`127.0.0.1:${newcomer.port}`);
        if (pushed !== undefined) {
          measured.push({
            passingToFirstCallMs: first - passed,
            passingToPushMs: pushed - passed,
            pushToReadyMs: readyAt === undefined ? undefined : readyAt - pushed,
            readyToFirstCallMs: readyAt === undefined ? undefined : first - readyAt,
            pushToFirstCallMs: first - pushed,
          });
        }
      }
      newcomer.signal('SIGTERM');
      await newcomer.waitForExit();
      await cluster.settled();
    }
    return { events: measured, failed: cluster.client.stats.snapshot().failed, watches };
  } finally {
    subscription.unsubscribe();
    passing.stop();
    await cluster.dispose();
  }
}
