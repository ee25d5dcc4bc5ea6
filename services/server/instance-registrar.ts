import { hostname } from 'node:os';
import { ConsulRegistrar, type ResolvedConnection } from '@grpc-consul-lab/consul-discovery';
import type { Logger } from 'pino';
import type { EnvConfig } from '../../packages/runtime/env-config.js';
import { PACKAGE_VERSION } from '../../packages/runtime/version.js';
import type { serverEnvSpec } from './server-config.js';

/**
 * The instance's registration in Consul, as the server's settings ask: its
 * checks (TTL heartbeat, gRPC health over TLS when TLS is on), its tags and
 * meta; the address the registration moves to becomes the instance's.
 */
export function instanceRegistrar({
  config,
  consul,
  instance,
  currentAddress,
  tls,
  logger,
}: {
  readonly config: EnvConfig<typeof serverEnvSpec>;
  readonly consul: ResolvedConnection;
  readonly instance: { readonly id: string; address: string };
  /** Asked again and again, so the registration follows an address that changes. */
  readonly currentAddress: () => Promise<string | undefined>;
  /** Mutual TLS: Consul's gRPC check shows a certificate too. */
  readonly tls: boolean;
  readonly logger: Logger;
}): ConsulRegistrar {
  return new ConsulRegistrar({
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
      // Consul asks for the instance's own id (InstanceHealth serves it), not the library's default '':
      // another process at our old address answers '' SERVING but not our id, so it fails the check.
      grpc: {
        intervalMs: config.GRPC_CHECK_INTERVAL_MS,
        healthService: instance.id,
        ...(tls && { tls: true, tlsServerName: config.TLS_SERVER_NAME || config.SERVICE_NAME }),
      },
      deregisterCriticalAfterMs: config.DEREGISTER_CRITICAL_AFTER_MS,
    },
    logger,
    onAddressChange: (address) => {
      instance.address = address;
    },
  });
}
