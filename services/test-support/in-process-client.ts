import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { CallLoop } from '../client/call-loop.js';
import { CallStats } from '../client/call-stats.js';
import { helloChannelOptions } from '../client/channel-options.js';
import { registerConsulResolver } from '../lib/discovery/consul-resolver.js';
import { DEFAULT_CALL_POLICY } from '../lib/discovery/service-config.js';
import { instanceKey } from '../lib/discovery/health-watcher.js';
import { loadHelloProto } from '../lib/hello-proto.js';

/**
 * The real client (resolver, round_robin, call loop, verification, counters)
 * running inside the test process, so tests read its counters directly.
 */
export interface InProcessClient {
  readonly stats: CallStats;
  stop(): Promise<void>;
}

export function startClient(
  consulAddress: string,
  ratePerSecond: number,
  target = 'consul:///HelloService',
  keepalive = true,
): InProcessClient {
  const stats = new CallStats();
  process.env.CONSUL_HTTP_ADDR = consulAddress;
  registerConsulResolver({
    callPolicy: DEFAULT_CALL_POLICY,
    events: {
      onInstances: (_service, instances) => stats.recordResolved(instances.map(instanceKey)),
      onError: () => stats.recordResolverError(),
    },
  });
  // The client program's defaults: 1 s keepalive ping, 1 s timeout.
  const client = new (loadHelloProto().hello.HelloService)(
    target,
    grpc.credentials.createInsecure(),
    helloChannelOptions(keepalive ? 1_000 : 0, 1_000),
  );

  const loop = new CallLoop(client, stats, pino({ level: 'silent' }), {
    ratePerSecond,
    concurrency: 32,
    deadlineMs: 5_000,
    namePrefix: 'test',
  });
  loop.start();
  return {
    stats,
    async stop() {
      await loop.stop();
      client.close();
    },
  };
}
