import { hostname } from 'node:os';
import { ConsulHttp, ConsulRegistrar } from '@grpc-consul-lab/consul-discovery';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { configOrExit, consulConnectionOrExit, loadEnvConfigOrExit } from '../lib/env-config.js';
import { HELLO_GRPC_SERVICE, loadHelloProto } from '../lib/hello-proto.js';
import { faultKey } from '../lib/gray-fault.js';
import { createLogger } from '../lib/logger.js';
import { readTlsFiles, serverCredentials } from '../lib/tls.js';
import { PACKAGE_VERSION } from '../lib/version.js';
import { GrayFaultWatch } from './gray-fault-watch.js';
import { InFlightCalls } from './in-flight-calls.js';
import { LoadReporter } from './load-report.js';
import { sayHelloHandler } from './say-hello.js';
import { firstExternalAddress, instanceIdOf, RouteToConsul, serverEnvSpec } from './server-config.js';

const config = loadEnvConfigOrExit({
  program: 'hello-server',
  summary: 'a HelloService instance that registers itself in Consul and drains on SIGTERM',
  spec: serverEnvSpec,
});
const logger = createLogger('hello-server', config.LOG_LEVEL, config.LOG_FORMAT);
// CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN(_FILE), CONSUL_CACERT… as the consul CLI reads them.
const consul = consulConnectionOrExit('hello-server');
// Mutual TLS when the three TLS_* files are given: clients (and Consul's check) must show a certificate from our CA.
const tls = configOrExit('hello-server', () => readTlsFiles(config));
const firstAgent = consul.endpoints[0] as (typeof consul.endpoints)[number];
// Asked again and again, so the registration follows an address that changes.
const routeToConsul = new RouteToConsul(firstAgent.host, firstAgent.port);
const currentAddress = async (): Promise<string | undefined> => config.ADVERTISE_ADDRESS || (await routeToConsul.sourceAddress());
const instance = {
  id: config.INSTANCE_ID || instanceIdOf(config.SERVICE_NAME, hostname(), config.PORT),
  address: (await currentAddress()) ?? firstExternalAddress(),
  port: config.PORT,
};
const log = logger.child({ instance: instance.id });

// The instance's id is a health service of its own: Consul's gRPC check asks
// for it, so a check that reaches another process at our old address fails.
const healthServices = ['', HELLO_GRPC_SERVICE, instance.id];
const health = new HealthImplementation(Object.fromEntries(healthServices.map((service) => [service, 'NOT_SERVING'])));
// Gray faults (lib/gray-fault.ts) come through Consul's KV, one key per instance;
// `unhealthy` turns health NOT_SERVING while calls are still answered.
const grayFaults = new GrayFaultWatch({
  consul: new ConsulHttp(consul),
  key: faultKey(instance.id),
  logger: log,
  onChange: () => updateServing(),
});
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
server.addService(loadHelloProto().hello.HelloService.service, {
  SayHello: inFlight.track(sayHelloHandler(instance, { handlerDelayMs: config.HANDLER_DELAY_MS, grayFault: () => grayFaults.current })),
});
health.addToServer(server);

const registrar = new ConsulRegistrar({
  consul,
  service: {
    name: config.SERVICE_NAME,
    id: instance.id,
    port: config.PORT,
    address: currentAddress,
    tags: config.SERVICE_TAGS,
    meta: { version: PACKAGE_VERSION, hostname: hostname(), started_at: new Date().toISOString() },
  },
  checks: {
    ttlMs: config.TTL_MS,
    ...(config.HEARTBEAT_MS !== undefined && { heartbeatMs: config.HEARTBEAT_MS }),
    // Consul asks for the instance's own id (the default): another process at our old address fails the check.
    grpc: {
      intervalMs: config.GRPC_CHECK_INTERVAL_MS,
      ...(tls && { tls: true, tlsServerName: config.TLS_SERVER_NAME || config.SERVICE_NAME }),
    },
    deregisterCriticalAfterMs: config.DEREGISTER_CRITICAL_AFTER_MS,
  },
  logger: log,
  onAddressChange: (address) => {
    instance.address = address;
  },
});

function setServing(serving: boolean): void {
  for (const service of healthServices) health.setStatus(service, serving ? 'SERVING' : 'NOT_SERVING');
}
let listening = false;
/** SERVING once listening, until a drain, and never under an `unhealthy` gray fault. */
function updateServing(): void {
  setServing(listening && !shuttingDown && grayFaults.current?.kind !== 'unhealthy');
}

server.bindAsync(`${config.BIND_ADDRESS}:${config.PORT}`, serverCredentials(tls), (error, port) => {
  if (error) {
    log.fatal({ err: error.message }, `cannot listen on port ${config.PORT}`);
    process.exit(1);
  }
  listening = true;
  updateServing();
  grayFaults.start();
  loadReporter.start();
  log.info({ address: instance.address, port, tls: tls ? 'mutual' : 'off' }, 'serving HelloService');
  // Registered only once serving, so Consul never routes to a closed port.
  registrar.start();
});

let shuttingDown = false;
async function shutDown(signal: NodeJS.Signals): Promise<void> {
  if (shuttingDown) {
    log.warn({ signal }, 'second signal: exiting at once');
    process.exit(130);
  }
  shuttingDown = true;
  log.info(
    { signal, propagationMs: config.DRAIN_PROPAGATION_MS, graceMs: config.SHUTDOWN_GRACE_MS },
    'draining: NOT_SERVING, maintenance, then shutdown',
  );
  await registrar.drain({
    setNotServing: () => setServing(false),
    propagationMs: config.DRAIN_PROPAGATION_MS,
    // GOAWAY only once every call in flight has its answer (see InFlightCalls):
    // grpc-js clients with keepalive end the calls still in flight on a
    // connection that got GOAWAY (grpc-node #3068; measured, 11 of 53 calls).
    server: {
      tryShutdown: (done) => void inFlight.idle().then(() => server.tryShutdown(() => done())),
      forceShutdown: () => server.forceShutdown(),
    },
    graceMs: config.SHUTDOWN_GRACE_MS,
  });
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', (signal) => void shutDown(signal));
process.on('SIGINT', (signal) => void shutDown(signal));
