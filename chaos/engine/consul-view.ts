import type { ConsulHttp } from '@grpc-consul-lab/consul-discovery';

/**
 * What Consul says about the instances, for the runner's messages: when an
 * instance is silent, the address Consul has for it is usually the cause.
 */
export interface Registration {
  readonly address: string;
  readonly port: number;
  /** The worst of its checks: passing, warning or critical. */
  readonly status: string;
}

/** Every registration of `service`, passing or not, by instance id; empty when Consul does not answer. */
export async function registrationsOf(consul: ConsulHttp, service: string): Promise<Map<string, Registration[]>> {
  const byId = new Map<string, Registration[]>();
  try {
    const { instances } = await consul.healthService({ service, passingOnly: false });
    for (const instance of instances) {
      byId.set(instance.id, [
        ...(byId.get(instance.id) ?? []),
        { address: instance.address, port: instance.port, status: instance.status },
      ]);
    }
  } catch {
    // The message then says Consul could not be asked; the verdict does not depend on it.
  }
  return byId;
}
