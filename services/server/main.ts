import { hostname } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ConsulClient, parseConsulAddress } from '../lib/consul/consul-client.js';
import { loadEnvConfigOrExit } from '../lib/env-config.js';
import { HELLO_GRPC_SERVICE, loadHelloProto } from '../lib/hello-proto.js';
import { createLogger } from '../lib/logger.js';
import { ConsulRegistrar, instanceIdOf } from '../lib/registration/consul-registrar.js';
import { PACKAGE_VERSION } from '../lib/version.js';
import { sayHelloHandler } from './say-hello.js';
import { firstExternalAddress, RouteToConsul, serverEnvSpec } from './server-config.js';

const config = loadEnvConfigOrExit(
  'hello-server',
  'a HelloService instance that registers itself in Consul and deregisters on SIGTERM',
  serverEnvSpec,
);
const logger = createLogger('hello-server', config.LOG_LEVEL);
const consulAddress = parseConsulAddress(config.CONSUL_HTTP_ADDR);
// Asked again and again, so the registration follows an address that changes.
const routeToConsul = new RouteToConsul(consulAddress.host, consulAddress.port);
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
const server = new grpc.Server({
  // Clients ping every second to notice frozen instances; allow it.
  'grpc.keepalive_permit_without_calls': 1,
});
server.addService(loadHelloProto().hello.HelloService.service, { SayHello: sayHelloHandler(instance, config.HANDLER_DELAY_MS) });
health.addToServer(server);

const registrar = new ConsulRegistrar(
  new ConsulClient(consulAddress),
  {
    serviceName: config.SERVICE_NAME,
    instanceId: instance.id,
    address: currentAddress,
    port: config.PORT,
    tags: config.SERVICE_TAGS,
    meta: { version: PACKAGE_VERSION, hostname: hostname(), started_at: new Date().toISOString() },
    ttlMs: config.TTL_MS,
    // TTL/4, as the seed (5 s of 20 s): three heartbeats may be missed before the check turns critical.
    heartbeatMs: config.HEARTBEAT_MS ?? (config.TTL_MS > 0 ? Math.floor(config.TTL_MS / 4) : 5_000),
    grpcCheckIntervalMs: config.GRPC_CHECK_INTERVAL_MS,
    grpcHealthService: instance.id,
    deregisterCriticalAfterMs: config.DEREGISTER_CRITICAL_AFTER_MS,
  },
  log,
  (address) => {
    instance.address = address;
  },
);

function setServing(serving: boolean): void {
  for (const service of healthServices) health.setStatus(service, serving ? 'SERVING' : 'NOT_SERVING');
}

server.bindAsync(`0.0.0.0:${config.PORT}`, grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    log.fatal({ err: error.message }, `cannot listen on port ${config.PORT}`);
    process.exit(1);
  }
  setServing(true);
  log.info({ address: instance.address, port }, 'serving HelloService');
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
  log.info({ signal, graceMs: config.SHUTDOWN_GRACE_MS }, 'shutting down: NOT_SERVING, deregistering, draining');
  setServing(false);
  await registrar.stop();
  const forced = setTimeout(() => {
    log.warn('drain deadline passed: cutting remaining calls');
    server.forceShutdown();
  }, config.SHUTDOWN_GRACE_MS);
  server.tryShutdown(() => {
    clearTimeout(forced);
    log.info('stopped');
    process.exit(0);
  });
}
process.on('SIGTERM', (signal) => void shutDown(signal));
process.on('SIGINT', (signal) => void shutDown(signal));
