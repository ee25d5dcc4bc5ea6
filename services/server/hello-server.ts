import * as grpc from '@grpc/grpc-js';
import { HELLO_GRPC_SERVICE, loadHelloProto } from '../../packages/contracts/hello.js';
import { InFlightCalls } from './in-flight-calls.js';
import type { InstanceHealth } from './instance-health.js';
import { LoadReporter } from './load-report.js';
import type { InstanceIdentity } from '../../packages/contracts/hello.js';
import { type SayHelloOptions, sayHelloHandler } from './say-hello.js';

/** The gRPC server of one instance: HelloService, its health, and its load reports. */
export interface HelloServer {
  readonly server: grpc.Server;
  /** The calls not answered yet: a drain waits for them before GOAWAY. */
  readonly inFlight: InFlightCalls;
  /** Started once listening. */
  readonly loadReporter: LoadReporter;
}

export function createHelloServer({
  instance,
  health,
  ...sayHello
}: SayHelloOptions & { readonly instance: InstanceIdentity; readonly health: InstanceHealth }): HelloServer {
  // Load reports (ORCA, out of band) let clients' weighted_round_robin give a
  // slow instance fewer calls. Their streams do not hold up a drain (measured:
  // tryShutdown ends within the propagation time, clients on Consul or not).
  const loadMetrics = new grpc.ServerMetricRecorder();
  const loadReporter = new LoadReporter({ pathPrefix: `/${HELLO_GRPC_SERVICE}/`, recorder: loadMetrics });
  const server = new grpc.Server({
    // Clients ping every second to notice frozen instances; allow it.
    'grpc.keepalive_permit_without_calls': 1,
    interceptors: [loadReporter.interceptor],
  });
  loadMetrics.addToServer(server);
  const inFlight = new InFlightCalls();
  server.addService(loadHelloProto().hello.HelloService.service, { SayHello: inFlight.track(sayHelloHandler(instance, sayHello)) });
  health.addToServer(server);
  return { server, inFlight, loadReporter };
}

/** Binds the server to `address`; resolves with the port it listens on. */
export function listen(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => (error ? reject(error) : resolve(port)));
  });
}
