import * as grpc from '@grpc/grpc-js';
import { type ConsulConnectionOptions, type ResolvedConnection, resolveConnection } from '../consul/connection.js';
import type { ServiceInstance } from '../consul/consul-http.js';
import { ConsulError } from '../consul/errors.js';
import { isolated } from '../internal/isolate.js';
import { type Logger, silentLogger } from '../internal/logger.js';
import { ConsulWeights, type WeightsRejectedEvent } from './consul-weights.js';
import { identityIn, instanceKey } from './health-watch.js';
import { DEFAULT_WATCH_TUNING, type WatchTuning } from './watch-tuning.js';
import { KvServiceConfig, type ServiceConfigEvent } from './kv-service-config.js';
import { serviceConfigFor } from './load-balancing-default.js';
import { type PreconnectOptions, Preconnector, preconnectAddressOf } from './preconnect.js';
import { type DatacenterChange, DatacenterFailover } from './datacenter-failover.js';
import { PreparedQueryWatch, type QueryEvent } from './prepared-query-watch.js';
import { type DiscoverySpec, parseConsulTarget } from './target.js';
import { trace } from './trace.js';
import { sharedWatches, type Subscription } from './watch-pool.js';

/**
 * The grpc-js name resolver for `consul:` targets (the grpc-js 1.14 listener
 * API, public exports only). Everything it needs travels with the channel:
 * the target says what to ask, the channel option made by
 * consulDiscoveryOptions() says how to reach Consul and who listens; no
 * module-level settings. It pushes only what changed for its channel: grpc-js
 * asks for re-resolution on every subchannel state change, and a resolver
 * that answered each request with a push would spin.
 */
type GrpcUri = grpc.experimental.GrpcUri;
type ResolverListener = grpc.experimental.ResolverListener;
type Endpoint = grpc.experimental.Endpoint;

export const CONSUL_SCHEME = 'consul';
/**
 * The channel option that carries ConsulDiscoveryOptions; set it with
 * consulDiscoveryOptions(). Under grpc-js's prefix for channel options that
 * are not handed to subchannels: grpc-js shares a connection between
 * channels only when their subchannel options are identical (compared with
 * ===), and a fresh options object per channel (another onEvent, say) would
 * otherwise give every channel connections of its own. Only the resolver
 * reads it.
 */
export const DISCOVERY_OPTIONS_KEY = `${grpc.experimental.SUBCHANNEL_ARGS_EXCLUDE_KEY_PREFIX}.grpc-consul-lab.consul_discovery`;

/**
 * What one channel's resolver saw, as it handed it to grpc-js. An error of
 * kind 'config' is a target or connection options that cannot work: nothing
 * was asked.
 */
export type DiscoveryEvent =
  | {
      readonly type: 'instances';
      readonly service: string;
      readonly instances: readonly ServiceInstance[];
      /** With several datacenters in the target, or a prepared query: the datacenter the instances come from (absent when merged). */
      readonly datacenter?: string;
      /** With a prepared query: how many datacenters it failed over to (Consul's `Failovers`). */
      readonly failovers?: number;
    }
  | {
      readonly type: 'error';
      readonly service: string;
      readonly error: ConsulError;
      /** With several datacenters in the target: the datacenter whose Consul failed. */
      readonly datacenter?: string;
    }
  | DatacenterChangeEvent
  | ServiceConfigEvent
  | WeightsRejectedEvent;

/**
 * With several datacenters in the target, or a prepared query: the
 * datacenter in use changed. `to` undefined: none has instances; `from`
 * undefined: the first choice. `reason`: what the datacenters ahead of `to`
 * said ("dc1: Consul unreachable"), or what `to` has.
 */
export interface DatacenterChangeEvent extends DatacenterChange {
  readonly type: 'datacenter';
  readonly service: string;
}

export interface ConsulDiscoveryOptions {
  /** How to reach Consul (agents, token, TLS); unset fields come from CONSUL_* variables. Agents named in the target win. */
  readonly connection?: ConsulConnectionOptions;
  /** Told every set and every error this channel's resolver pushes, its target's too. What it throws is caught and logged once. */
  readonly onEvent?: (event: DiscoveryEvent) => void;
  readonly tuning?: Partial<WatchTuning>;
  /**
   * Per datacenter, the Consul agents to ask about it (a target with `dc`):
   * its own servers, so that losing another datacenter's Consul does not
   * blind the channel. Fields not given (token, TLS, ...) come from
   * `connection`. A datacenter without an entry is asked through
   * `connection` with `?dc=`, which Consul forwards over the WAN.
   */
  readonly datacenters?: Readonly<Record<string, ConsulConnectionOptions>>;
  /** Where the resolver reports a callback that throws (once per callback); pino's interface. Silent by default. */
  readonly logger?: Logger;
  /**
   * Opt-in: connect to instances Consul has registered but critical, so a new
   * instance's first call finds its connection READY when it passes
   * (preconnect.ts; README "Preconnecting"). Costs a connection per such
   * instance (at most maxInstances at once).
   */
  readonly preconnect?: PreconnectOptions;
}

/** Channel options that carry discovery options to the resolver of that channel only. */
export function consulDiscoveryOptions(options: ConsulDiscoveryOptions): grpc.ChannelOptions {
  return { [DISCOVERY_OPTIONS_KEY]: options };
}

function toEndpoint(instance: ServiceInstance): Endpoint {
  // One endpoint per instance: several addresses in one endpoint would be
  // treated by round_robin as a single backend.
  return { addresses: [{ host: instance.address, port: instance.port }] };
}

export class ConsulResolver implements grpc.experimental.Resolver {
  private readonly service: string;
  private readonly target: string;
  private readonly setup: { connection: ResolvedConnection; spec: ReturnType<typeof parseConsulTarget>['spec'] } | undefined;
  /** With several datacenters in the target: a watch each, and the choice among them. */
  private readonly failover: DatacenterFailover | undefined;
  /** With `query` in the target: the prepared query, polled. */
  private readonly queryWatch: PreparedQueryWatch | undefined;
  private sourceStarted = false;
  /** Named in the error a channel gets when no datacenter has instances. */
  private readonly datacenterNames: string | undefined;
  private readonly options: ConsulDiscoveryOptions;
  private readonly logger: Logger;
  /** The channel option's onEvent and grpc-js's listener, each isolated: one that throws does not keep the other from being told. */
  private readonly onEvent: (event: DiscoveryEvent) => void;
  private readonly listener: (...args: Parameters<ResolverListener>) => void;
  private readonly tuning: WatchTuning;
  /** null: the channel's own grpc.service_config applies (grpc-js uses it when we pass null). */
  private readonly serviceConfig: ReturnType<typeof serviceConfigFor>;
  private subscription: Subscription | undefined;
  /** A side channel's resolver (preconnect.ts): the one address it pushes, once per activation. */
  private readonly pinned: grpc.experimental.SubchannelAddress | undefined;
  private pinnedPushed = false;
  /** With `preconnect` in the options: the side channels, and the watch of every registered instance that feeds them. */
  private readonly preconnector: Preconnector | undefined;
  private registeredSubscription: Subscription | undefined;
  /** With `service-config` in the target: the service config kept in Consul KV, above the channel's own. */
  private readonly kvConfig: KvServiceConfig | undefined;
  /** With `weights=consul` in the target: endpoints repeated by Consul's Weights. */
  private readonly weights: ConsulWeights | undefined;
  /** The watch's last event, pushed again when the service config changes. */
  private lastWatchEvent: QueryEvent | undefined;
  /** What this channel was last told, so the same thing is never pushed twice. */
  private lastPushed: string | undefined;
  /** Why the target or the connection options cannot work; told instead of any set. */
  private readonly setupError: ConsulError | undefined;
  /**
   * False from destroy() to the next updateResolution() (grpc-js destroys an
   * idle channel's resolver and asks it again later): meanwhile nothing is
   * told, not even what was under way when destroy() came.
   */
  private live = true;

  constructor(target: GrpcUri, listener: ResolverListener, channelOptions: grpc.ChannelOptions) {
    this.options = (channelOptions[DISCOVERY_OPTIONS_KEY] as ConsulDiscoveryOptions | undefined) ?? {};
    this.logger = this.options.logger ?? silentLogger;
    this.tuning = { ...DEFAULT_WATCH_TUNING, ...this.options.tuning };
    this.serviceConfig = serviceConfigFor(channelOptions['grpc.service_config']);
    this.service = target.path;
    this.target = grpc.experimental.uriToString(target);
    trace(`resolver constructed for target ${this.target}`);
    const fields = { target: this.target };
    const onEvent = isolated(this.options.onEvent ?? (() => undefined), this.logger, "the consul: resolver's onEvent", fields);
    // grpc-js's own listener should not throw, but a load-balancing policy it calls might.
    const tell = isolated(listener, this.logger, 'the grpc-js resolver listener', fields);
    this.onEvent = (event) => {
      if (this.live) onEvent(event);
    };
    this.listener = (...args) => {
      if (this.live) tell(...args);
    };
    this.pinned = preconnectAddressOf(channelOptions);
    // A side channel asks Consul nothing: it exists to connect to one address.
    if (this.pinned) return;
    try {
      if (this.options.preconnect) this.preconnector = new Preconnector(this.target, channelOptions, this.options.preconnect);
      const parsed = parseConsulTarget(target.authority, target.path);
      this.service = parsed.spec.service;
      const main: ConsulConnectionOptions = { ...this.options.connection, ...(parsed.address && { address: parsed.address }) };
      const connectionFor = connectionsPerDatacenter(main, this.options.datacenters);
      const connection = connectionFor(parsed.spec.dc);
      this.setup = { connection, spec: parsed.spec };
      const order = parsed.datacenters?.order;
      if (order) {
        this.datacenterNames = order.join(', ');
        // Every listed datacenter's connection resolved now: one that cannot work fails the channel at once, not later.
        for (const datacenter of order) connectionFor(datacenter);
      }
      // What a multi-datacenter target's watches and a prepared query's poll share: where to ask, whom to tell.
      const multi = {
        spec: parsed.spec,
        connectionFor,
        tuning: this.tuning,
        logger: this.logger,
        target: this.target,
        onEvent: (event: QueryEvent) => this.onWatchEvent(event),
        onChange: (change: DatacenterChange) => this.onEvent({ type: 'datacenter', service: this.service, ...change }),
        onDatacenterError: (datacenter: string, error: ConsulError) =>
          this.onEvent({ type: 'error', service: this.service, error, datacenter }),
      };
      if (parsed.preparedQuery !== undefined) {
        this.queryWatch = new PreparedQueryWatch({ ...multi, name: parsed.preparedQuery, datacenters: order ?? [parsed.spec.dc] });
      } else if (parsed.datacenters) {
        this.failover = new DatacenterFailover({ ...multi, choice: parsed.datacenters });
      }
      if (parsed.serviceConfigKey !== undefined) {
        this.kvConfig = new KvServiceConfig({
          connection,
          key: parsed.serviceConfigKey,
          service: this.service,
          tuning: this.tuning,
          logger: this.logger,
          onEvent: this.onEvent,
          onChange: () => this.onServiceConfigChange(),
        });
      }
      if (parsed.spec.weights) this.weights = new ConsulWeights(this.service, this.logger, this.onEvent);
    } catch (error) {
      this.setupError = new ConsulError('config', (error as Error).message, undefined, { cause: error });
      this.reportSetupError(this.setupError);
    }
  }

  static getDefaultAuthority(target: GrpcUri): string {
    // The authority (and TLS name) a server is asked for is the service's name, not Consul's address.
    return parseConsulTarget(target.authority, target.path).spec.service;
  }

  /** Joins the shared watch when not in it; never pushes by itself (see the class comment). */
  updateResolution(): void {
    this.live = true;
    if (this.pinned) return this.pushPinned(this.pinned);
    if (this.setupError !== undefined) this.reportSetupError(this.setupError);
    this.kvConfig?.start();
    const source = this.failover ?? this.queryWatch;
    if (source) {
      // grpc-js asks again when a connection drops: the datacenter in use may be cut off, its blocking query hanging.
      if (this.sourceStarted) this.failover?.probe();
      this.sourceStarted = true;
      source.start();
      return;
    }
    if (this.subscription || !this.setup) return;
    this.subscription = sharedWatches.subscribe(
      this.setup.connection,
      this.setup.spec,
      (event) => this.onWatchEvent(event),
      this.tuning,
      this.logger,
    );
    if (this.preconnector) this.watchRegistered(this.preconnector, this.setup.connection, this.setup.spec);
  }

  /** Every registered instance, for the side channels; errors are the main watch's to tell. */
  private watchRegistered(preconnector: Preconnector, connection: ResolvedConnection, spec: DiscoverySpec): void {
    // Not the channel's limit nor its weights: a new instance can be outside either.
    const everyInstance: DiscoverySpec = { ...spec, limit: undefined, weights: undefined, allStates: true };
    this.registeredSubscription = sharedWatches.subscribe(
      connection,
      everyInstance,
      (event) => {
        if (this.live && event.kind === 'instances') preconnector.registered(event.instances);
      },
      this.tuning,
      this.logger,
    );
  }

  private pushPinned(address: grpc.experimental.SubchannelAddress): void {
    if (this.pinnedPushed) return;
    this.pinnedPushed = true;
    process.nextTick(() => this.listener(grpc.experimental.statusOrFromValue([{ addresses: [address] }]), {}, this.serviceConfig, ''));
  }

  /** Also called when the channel goes idle; the next updateResolution() pushes the current set again. */
  destroy(): void {
    trace(`resolver destroyed for target ${this.target}`);
    this.live = false;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.failover?.stop();
    this.queryWatch?.stop();
    this.sourceStarted = false;
    this.registeredSubscription?.unsubscribe();
    this.registeredSubscription = undefined;
    this.preconnector?.closeAll();
    this.pinnedPushed = false;
    this.kvConfig?.stop();
    this.lastWatchEvent = undefined;
    this.lastPushed = undefined;
  }

  /** A new service config from Consul KV (or its first answer): the current set goes out again with it. */
  private onServiceConfigChange(): void {
    this.lastPushed = undefined;
    if (this.lastWatchEvent) this.onWatchEvent(this.lastWatchEvent);
  }

  /** The KV config while its key holds a valid one, else the default (the channel's own, or round robin). */
  private currentServiceConfig(): grpc.experimental.StatusOr<grpc.ServiceConfig> | null {
    return this.kvConfig?.current ?? this.serviceConfig;
  }

  private onWatchEvent(event: QueryEvent): void {
    this.lastWatchEvent = event;
    // Until the service config key is first read, nothing goes out: calls would start on the default policy.
    if (this.kvConfig?.settled === false) return;
    if (event.kind === 'instances') {
      const key = `instances:${event.datacenter ?? ''}:${event.instances.map(identityIn(this.setup?.spec ?? {})).join(',')}`;
      if (key === this.lastPushed) return;
      this.lastPushed = key;
      this.onEvent({
        type: 'instances',
        service: this.service,
        instances: event.instances,
        ...(event.datacenter !== undefined && { datacenter: event.datacenter }),
        ...(event.failovers !== undefined && { failovers: event.failovers }),
      });
      const endpoints = this.weights?.endpoints(event.instances) ?? event.instances.map(toEndpoint);
      trace(`${this.target}: pushing ${endpoints.length} endpoints [${event.instances.map(instanceKey).join(', ')}]`);
      this.listener(grpc.experimental.statusOrFromValue(endpoints), {}, this.currentServiceConfig(), '');
      this.preconnector?.handedOver(event.instances);
      if (endpoints.length === 0) {
        // The empty list drops the old endpoints; this error then makes calls
        // fail at once, UNAVAILABLE naming the service (only waitForReady calls
        // wait). The list alone would not: grpc-js 1.14.7's round_robin leaves
        // an empty list IDLE, and every call waits for its deadline.
        const spec = this.setup?.spec;
        this.report(
          grpc.status.UNAVAILABLE,
          `no passing instance of ${this.service} in Consul${spec?.tags.length ? ` with tags ${spec.tags.join(', ')}` : ''}${spec?.dc ? ` in dc ${spec.dc}` : ''}${this.datacenterNames !== undefined ? ` in dc ${this.datacenterNames}` : ''}`,
        );
      }
    } else {
      // A datacenter's failure was told to onEvent when it came (DatacenterFailover's onDatacenterError): only the channel hears it here.
      this.tellError(event.error, `Consul query for ${this.service} failed: ${event.error.message}`, this.failover !== undefined);
    }
  }

  /** onEvent (unless it heard it already) and the channel are told an error, unless it is the one they were told last. */
  private tellError(error: ConsulError, details: string, onEventTold = false): void {
    const key = `error:${details}`;
    if (key === this.lastPushed) return;
    this.lastPushed = key;
    if (!onEventTold) this.onEvent({ type: 'error', service: this.service, error });
    this.report(grpc.status.UNAVAILABLE, details);
  }

  /**
   * On the next tick: a resolver must not call its listener from its
   * constructor or updateResolution(). Told once per activation (the
   * constructor and updateResolution() both ask); not while destroyed, when
   * it would count as told without being told.
   */
  private reportSetupError(error: ConsulError): void {
    process.nextTick(() => {
      if (this.live) this.tellError(error, error.message);
    });
  }

  /** UNAVAILABLE is the code to pass: grpc-js turns other codes from a resolver into INTERNAL. */
  private report(code: grpc.status, details: string): void {
    trace(`${this.target}: pushing error ${details}`);
    // With the service config, round_robin keeps its working instances through the error.
    this.listener(grpc.experimental.statusOrFromError({ code, details }), {}, this.currentServiceConfig(), details);
  }
}

/**
 * The connection each datacenter is asked through: its own entry of
 * `datacenters` over the main connection's fields (TLS merged field by
 * field), or the main connection itself. Resolved once per datacenter.
 */
function connectionsPerDatacenter(
  main: ConsulConnectionOptions,
  datacenters: Readonly<Record<string, ConsulConnectionOptions>> | undefined,
): (datacenter: string | undefined) => ResolvedConnection {
  const resolved = new Map<string | undefined, ResolvedConnection>();
  return (datacenter) => {
    const known = resolved.get(datacenter);
    if (known) return known;
    const own = datacenter === undefined ? undefined : datacenters?.[datacenter];
    const connection = resolveConnection(own ? { ...main, ...own, tls: { ...main.tls, ...own.tls } } : main);
    resolved.set(datacenter, connection);
    return connection;
  };
}

/** Makes `consul:` targets resolvable in this process; safe to call more than once. */
export function registerConsulResolver(): void {
  grpc.experimental.registerResolver(CONSUL_SCHEME, ConsulResolver);
}

export { ConsulError };
