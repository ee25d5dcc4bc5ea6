import { hostname } from 'node:os';
import { ConsulHttp } from '@grpc-consul-lab/consul-discovery';
import { faultKey } from '../../packages/contracts/gray-fault.js';
import { createLogger } from '../../packages/runtime/logger.js';
import { loadProgramSettingsOrExit } from '../../packages/runtime/program-settings.js';
import { serverCredentials } from '../../packages/runtime/tls.js';
import { drainOnSignals } from './drain-on-signals.js';
import { GrayFaultWatch } from './gray-fault-watch.js';
import { createHelloServer, listen } from './hello-server.js';
import { InstanceHealth } from './instance-health.js';
import { instanceRegistrar } from './instance-registrar.js';
import { defaultInstanceId, firstExternalAddress, RouteToConsul, serverEnvSpec } from './server-config.js';

const PROGRAM = 'hello-server';

/** A HelloService instance: registered in Consul once it serves, drained on SIGTERM. */
async function main(): Promise<void> {
  // With TLS, clients (and Consul's check) must show a certificate from our CA.
  const { config, consul, tls } = loadProgramSettingsOrExit({
    program: PROGRAM,
    summary: 'a HelloService instance that registers itself in Consul and drains on SIGTERM',
    spec: serverEnvSpec,
  });
  const logger = createLogger(PROGRAM, config.LOG_LEVEL, config.LOG_FORMAT);
  const firstAgent = consul.endpoints[0] as (typeof consul.endpoints)[number];
  // Asked again and again, so the registration follows an address that changes.
  const routeToConsul = new RouteToConsul(firstAgent.host, firstAgent.port);
  const currentAddress = async (): Promise<string | undefined> => config.ADVERTISE_ADDRESS || (await routeToConsul.sourceAddress());
  const instance = {
    id: config.INSTANCE_ID || defaultInstanceId(config.SERVICE_NAME, hostname(), config.PORT),
    address: (await currentAddress()) ?? firstExternalAddress(),
    port: config.PORT,
  };
  const log = logger.child({ instance: instance.id });

  const health = new InstanceHealth(instance.id);
  // Gray faults (packages/contracts/gray-fault.ts) come through Consul's KV, one key per instance.
  const grayFaults = new GrayFaultWatch({
    consul: new ConsulHttp(consul),
    key: faultKey(instance.id),
    logger: log,
    onChange: (fault) => health.setGrayFault(fault),
  });
  const hello = createHelloServer({ instance, health, handlerDelayMs: config.HANDLER_DELAY_MS, grayFault: () => grayFaults.current });
  const registrar = instanceRegistrar({ config, consul, instance, currentAddress, tls: tls !== undefined, logger: log });
  drainOnSignals({ hello, health, registrar, propagationMs: config.DRAIN_PROPAGATION_MS, graceMs: config.SHUTDOWN_GRACE_MS, log });

  const port = await listen(hello.server, `${config.BIND_ADDRESS}:${config.PORT}`, serverCredentials(tls)).catch((error: Error) => {
    log.fatal({ err: error.message }, `cannot listen on port ${config.PORT}`);
    process.exit(1);
  });
  health.markListening();
  grayFaults.start();
  hello.loadReporter.start();
  log.info({ address: instance.address, port, tls: tls ? 'mutual' : 'off' }, 'serving HelloService');
  // Registered only once serving, so Consul never routes to a closed port.
  registrar.start();
}

await main();
