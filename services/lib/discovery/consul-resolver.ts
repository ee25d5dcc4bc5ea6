import * as grpc from '@grpc/grpc-js';
import type { Endpoint } from '@grpc/grpc-js/build/src/subchannel-address.js';
import type { Logger } from 'pino';
import { ConsulClient, type ServiceInstance } from '../consul/consul-client.js';
import { parseConsulTarget } from './consul-target.js';
import { HealthWatcher } from './health-watcher.js';
import { type CallPolicy, DEFAULT_CALL_POLICY, roundRobinServiceConfig } from './service-config.js';

/**
 * A grpc-js name resolver for `consul:` targets, written against the grpc-js
 * 1.14 listener API (a function taking StatusOr values). It pushes a result
 * only when Consul's set of passing instances really changed: grpc-js asks
 * for re-resolution on every subchannel state change, and a resolver that
 * answered each request with a push would spin (the notes' tight-loop
 * pitfall). On Consul errors it reports an error status, so round_robin keeps
 * the last good instances.
 */
type GrpcUri = grpc.experimental.GrpcUri;
type ResolverListener = grpc.experimental.ResolverListener;

export const CONSUL_SCHEME = 'consul';

/** Observers the client program uses to log and count what the resolver saw. */
export interface ResolverEvents {
  readonly onInstances?: (service: string, instances: readonly ServiceInstance[]) => void;
  readonly onError?: (service: string, message: string) => void;
}

interface ResolverSettings {
  events: ResolverEvents;
  callPolicy: CallPolicy;
  logger?: Logger;
}

const settings: ResolverSettings = { events: {}, callPolicy: DEFAULT_CALL_POLICY };

function toEndpoint(instance: ServiceInstance): Endpoint {
  // One endpoint per instance: several addresses in one endpoint would be
  // treated by round_robin as a single backend.
  return { addresses: [{ host: instance.address, port: instance.port }] };
}

export class ConsulResolver implements grpc.experimental.Resolver {
  private readonly watcher: HealthWatcher | undefined;
  private readonly service: string;

  constructor(
    target: GrpcUri,
    private readonly listener: ResolverListener,
    _channelOptions: grpc.ChannelOptions,
  ) {
    let parsed: ReturnType<typeof parseConsulTarget> | undefined;
    try {
      parsed = parseConsulTarget(target.authority, target.path);
    } catch (error) {
      // A constructor must not call the listener synchronously; report on the next tick.
      const details = (error as Error).message;
      this.service = target.path;
      process.nextTick(() => this.reportError(grpc.status.INVALID_ARGUMENT, details));
      return;
    }
    this.service = parsed.service;
    this.watcher = new HealthWatcher(new ConsulClient(parsed.consul), parsed, {
      onInstances: (instances) => this.pushInstances(instances),
      onError: (message) => {
        settings.events.onError?.(this.service, message);
        this.reportError(grpc.status.UNAVAILABLE, `Consul query for ${this.service} failed: ${message}`);
      },
    });
  }

  static getDefaultAuthority(target: GrpcUri): string {
    // The authority a server sees is the service's name, not Consul's address.
    return parseConsulTarget(target.authority, target.path).service;
  }

  /** Starts the watch when it is not running; never pushes by itself (see the class comment). */
  updateResolution(): void {
    this.watcher?.start();
  }

  destroy(): void {
    this.watcher?.stop();
  }

  private pushInstances(instances: readonly ServiceInstance[]): void {
    settings.events.onInstances?.(this.service, instances);
    this.listener(
      grpc.experimental.statusOrFromValue(instances.map(toEndpoint)),
      {},
      this.serviceConfig(),
      instances.length === 0 ? `no passing instance of ${this.service} in Consul` : '',
    );
  }

  private reportError(code: grpc.status, details: string): void {
    // The service config goes along with the error: with none, grpc-js would
    // fall back to the channel's default policy (pick_first), drop round_robin
    // and its working connections, and fail every call until Consul answers.
    this.listener(grpc.experimental.statusOrFromError({ code, details }), {}, this.serviceConfig(), details);
  }

  private serviceConfig() {
    return grpc.experimental.statusOrFromValue(roundRobinServiceConfig(settings.callPolicy));
  }
}

/**
 * Registers the resolver for `consul:` targets; call before creating a
 * client. Later calls replace the observers and call policy.
 */
export function registerConsulResolver(options: Partial<ResolverSettings> = {}): void {
  Object.assign(settings, options);
  grpc.experimental.registerResolver(CONSUL_SCHEME, ConsulResolver);
}
