import * as grpc from '@grpc/grpc-js';

/**
 * The service config the resolver gives with every result and every error:
 * round robin over the instances, unless the channel's own service config
 * (`grpc.service_config`) names a policy. grpc-js applies the resolver's
 * config INSTEAD of the channel's, and falls back to pick_first when neither
 * names a policy; so a channel whose config sets only methods (a retry
 * policy, a timeout) gets its methods plus round robin, not pick_first.
 * It must go along with errors too: with none, grpc-js would fall back to
 * pick_first, drop round_robin's working connections and fail every call
 * (measured: 701 failed calls over a 3 s Consul restart).
 */
type ServiceConfigResult = grpc.experimental.StatusOr<grpc.ServiceConfig>;

const ROUND_ROBIN = [{ round_robin: {} }];

/** null: the channel's config applies as it is (it names a policy, or is not JSON, which grpc-js reports itself). */
export function serviceConfigFor(channelServiceConfig: unknown): ServiceConfigResult | null {
  if (channelServiceConfig === undefined || channelServiceConfig === '') {
    return grpc.experimental.statusOrFromValue({ loadBalancingConfig: ROUND_ROBIN, methodConfig: [] });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(channelServiceConfig));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const config = parsed as Partial<Record<keyof grpc.ServiceConfig, unknown>>;
  const namesPolicy =
    config.loadBalancingPolicy !== undefined || (Array.isArray(config.loadBalancingConfig) && config.loadBalancingConfig.length > 0);
  if (namesPolicy) return null;
  const methodConfig = Array.isArray(config.methodConfig) ? (config.methodConfig as RawMethodConfig[]).map(withParsedTimeout) : [];
  return grpc.experimental.statusOrFromValue({ ...(config as object), loadBalancingConfig: ROUND_ROBIN, methodConfig });
}

type RawMethodConfig = Omit<grpc.MethodConfig, 'timeout'> & { timeout?: grpc.experimental.Duration | string };

/**
 * grpc-js has checked the channel's config before any resolver exists (an
 * invalid one throws when the client is made); what it does besides, and a
 * config handed over by a resolver skips, is turn a timeout written as
 * "1.5s" into the {seconds, nanos} its calls read.
 */
function withParsedTimeout(method: RawMethodConfig): grpc.MethodConfig {
  const { timeout, ...rest } = method;
  if (typeof timeout !== 'string') return { ...rest, ...(timeout !== undefined && { timeout }) };
  const parsed = grpc.experimental.parseDuration(timeout);
  return { ...rest, ...(parsed !== null && { timeout: parsed }) };
}
