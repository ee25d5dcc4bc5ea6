import * as grpc from '@grpc/grpc-js';
import { consulDiscoveryOptions, registerConsulResolver } from '../../src/index.js';
import { EchoClient } from './echo-server.js';

/**
 * A process that resolves one consul: target (argv[2]) through a real channel
 * and exits 0 once the resolver has pushed a set, 2 if none came within 10 s.
 * tracing.test.ts reads what grpc-js's tracing wrote to its stderr.
 */
const target = process.argv[2] ?? '';
registerConsulResolver();
setTimeout(() => process.exit(2), 10_000).unref();
const client = new EchoClient(
  target,
  grpc.credentials.createInsecure(),
  consulDiscoveryOptions({
    tuning: { backoff: { initialMs: 50, maxMs: 50 } },
    // On the next turn: the push this event announces is traced right after it.
    onEvent: (event) => {
      if (event.type === 'instances') setImmediate(() => process.exit(0));
    },
  }),
);
client.getChannel().getConnectivityState(true);
