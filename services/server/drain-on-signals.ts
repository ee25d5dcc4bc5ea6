import type { ConsulRegistrar } from '@grpc-consul-lab/consul-discovery';
import type { Logger } from 'pino';
import { stopOnSignals } from '../../packages/runtime/stop-on-signals.js';
import type { HelloServer } from './hello-server.js';
import type { InstanceHealth } from './instance-health.js';

/**
 * SIGTERM or SIGINT drains the instance and exits 0: NOT_SERVING, Consul's
 * maintenance, `propagationMs` for clients to hear of it, then shutdown once
 * every call in flight has its answer (`graceMs` at most). A second signal
 * exits 130 at once.
 */
export function drainOnSignals({
  hello,
  health,
  registrar,
  propagationMs,
  graceMs,
  log,
}: {
  readonly hello: HelloServer;
  readonly health: InstanceHealth;
  readonly registrar: ConsulRegistrar;
  readonly propagationMs: number;
  readonly graceMs: number;
  readonly log: Logger;
}): void {
  stopOnSignals({
    stop: async (signal) => {
      log.info({ signal, propagationMs, graceMs }, 'draining: NOT_SERVING, maintenance, then shutdown');
      const { server, inFlight } = hello;
      await registrar.drain({
        setNotServing: () => health.drain(),
        propagationMs,
        // GOAWAY only once every call in flight has its answer (see InFlightCalls):
        // grpc-js clients with keepalive end the calls still in flight on a
        // connection that got GOAWAY (grpc-node #3068; measured, 11 of 53 calls).
        server: {
          tryShutdown: (done) => void inFlight.idle().then(() => server.tryShutdown(() => done())),
          forceShutdown: () => server.forceShutdown(),
        },
        graceMs,
      });
      log.info('stopped');
    },
    onSecondSignal: (signal) => log.warn({ signal }, 'second signal: exiting at once'),
  });
}
