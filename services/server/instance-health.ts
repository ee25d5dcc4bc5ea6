import type * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { GrayFault } from '../../packages/contracts/gray-fault.js';
import { HELLO_GRPC_SERVICE } from '../../packages/contracts/hello.js';

/**
 * The instance's gRPC health, as Consul's check and clients ask it: SERVING
 * once listening, until a drain, and never under an `unhealthy` gray fault
 * (calls are still answered then). The instance's id is a health service of
 * its own: Consul's gRPC check asks for it, so a check that reaches another
 * process at our old address fails.
 */
export class InstanceHealth {
  private readonly services: readonly string[];
  private readonly health: HealthImplementation;
  private listening = false;
  private draining = false;
  private grayFault: GrayFault | undefined;

  constructor(instanceId: string) {
    this.services = ['', HELLO_GRPC_SERVICE, instanceId];
    this.health = new HealthImplementation(Object.fromEntries(this.services.map((service) => [service, 'NOT_SERVING'])));
  }

  addToServer(server: grpc.Server): void {
    this.health.addToServer(server);
  }

  /** The server listens: SERVING, unless a gray fault or a drain says otherwise. */
  markListening(): void {
    this.listening = true;
    this.update();
  }

  /** The gray fault in force now (undefined: none). */
  setGrayFault(fault: GrayFault | undefined): void {
    this.grayFault = fault;
    this.update();
  }

  /** A drain began: NOT_SERVING from now on. */
  drain(): void {
    this.draining = true;
    this.set(false);
  }

  private update(): void {
    this.set(this.listening && !this.draining && this.grayFault?.kind !== 'unhealthy');
  }

  private set(serving: boolean): void {
    for (const service of this.services) this.health.setStatus(service, serving ? 'SERVING' : 'NOT_SERVING');
  }
}
