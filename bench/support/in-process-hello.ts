import { ConsulRegistrar } from '@grpc-consul-lab/consul-discovery';
import * as grpc from '@grpc/grpc-js';
import { HELLO_SERVICE_NAME } from '../../packages/contracts/hello.js';
import { createHelloServer, listen } from '../../services/server/hello-server.js';
import { InstanceHealth } from '../../services/server/instance-health.js';
import type { InFlightCalls } from '../../services/server/in-flight-calls.js';

export interface InProcessHelloOptions {
  /**
   * The port callers are to use, given the one the instance listens on: a
   * proxy's in front of it, so that Consul lists the proxy and every call
   * passes through it (bench/net-fault-policies.ts). Default: its own.
   */
  readonly portForCallers?: (listeningPort: number) => Promise<number>;
}

/**
 * A HelloService instance inside the bench's process (the server's own
 * modules: HelloService, health, load reports), registered in Consul with a
 * TTL check that passes at once. Cheaper than a process per instance when a
 * bench replaces hundreds of them; no gRPC check, so none waits for Consul's
 * first check run (up to its interval).
 */
export class InProcessHello {
  private constructor(
    readonly instanceId: string,
    /** The port Consul lists, the one callers use (a proxy's with `portForCallers`). */
    readonly port: number,
    private readonly server: grpc.Server,
    private readonly health: InstanceHealth,
    private readonly registrar: ConsulRegistrar,
    private readonly stopReporting: () => void,
    private readonly inFlight: InFlightCalls,
  ) {}

  /** The calls (attempts) that reached this instance so far. */
  get callsArrived(): number {
    return this.inFlight.arrived;
  }

  /** Listens on a free port of 127.0.0.1 and registers as `HelloService-<name>`. */
  static async start(consulAddress: string, name: string, options: InProcessHelloOptions = {}): Promise<InProcessHello> {
    const instance = { id: `${HELLO_SERVICE_NAME}-${name}`, address: '127.0.0.1', port: 0 };
    const health = new InstanceHealth(instance.id);
    const hello = createHelloServer({ instance, health });
    const port = await listen(hello.server, '127.0.0.1:0', grpc.ServerCredentials.createInsecure());
    instance.port = port;
    health.markListening();
    hello.loadReporter.start();
    const registeredPort = (await options.portForCallers?.(port)) ?? port;
    const registrar = new ConsulRegistrar({
      consul: { address: consulAddress, env: {} },
      service: { name: HELLO_SERVICE_NAME, id: instance.id, port: registeredPort, address: '127.0.0.1' },
    });
    registrar.start();
    return new InProcessHello(
      instance.id,
      registeredPort,
      hello.server,
      health,
      registrar,
      () => hello.loadReporter.stop(),
      hello.inFlight,
    );
  }

  /** Deregisters, then closes the server (calls in flight may finish for up to a second). */
  async stop(): Promise<void> {
    this.health.drain();
    await this.registrar.stop();
    this.stopReporting();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 1_000);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}
