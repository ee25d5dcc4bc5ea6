/**
 * @grpc-consul-lab/consul-discovery: Consul service discovery for @grpc/grpc-js.
 *
 * Discovery: registerConsulResolver() once, then `consul:` targets, with
 * consulDiscoveryOptions() in the channel options for what a target cannot
 * say (agents' TLS, token, observers). Registration: a ConsulRegistrar per
 * instance. See README.md for the target grammar and every option.
 */
export {
  CONSUL_SCHEME,
  ConsulResolver,
  type ConsulDiscoveryOptions,
  consulDiscoveryOptions,
  type DatacenterChangeEvent,
  DISCOVERY_OPTIONS_KEY,
  type DiscoveryEvent,
  registerConsulResolver,
} from './discovery/consul-resolver.js';
export { type ConsulTarget, type DiscoverySpec, InvalidTargetError, parseConsulTargetString, type WatchMode } from './discovery/target.js';
export { defaultServiceConfigKey, parseServiceConfig, type ServiceConfig, type ServiceConfigEvent } from './discovery/kv-service-config.js';
export { MAX_REPEATS, type WeightsRejectedEvent } from './discovery/consul-weights.js';
export { type PreconnectOptions } from './discovery/preconnect.js';
export { instanceIdOf, instanceKey } from './discovery/health-watch.js';
export { DEFAULT_WATCH_TUNING, type WatchTuning } from './discovery/watch-tuning.js';
export { sharedWatches } from './discovery/watch-pool.js';
export {
  ConsulRegistrar,
  type DrainableServer,
  type DrainOptions,
  type RegistrarOptions,
  type RegistrationState,
  shutDownGracefully,
} from './registration/consul-registrar.js';
export {
  type ConsulConnectionOptions,
  type ConsulEndpoint,
  type ConsulTlsOptions,
  type ResolvedConnection,
  resolveConnection,
} from './consul/connection.js';
export {
  type Consistency,
  ConsulHttp,
  type HealthQuery,
  type HealthResult,
  type KvResult,
  type ServiceInstance,
} from './consul/consul-http.js';
export { ConsulConfigError, ConsulError, type ConsulErrorKind } from './consul/errors.js';
export type { Logger } from './internal/logger.js';
