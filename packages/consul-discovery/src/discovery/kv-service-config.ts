import * as grpc from '@grpc/grpc-js';
import type { ResolvedConnection } from '../consul/connection.js';
import type { Logger } from '../internal/logger.js';
import type { WatchTuning } from './watch-tuning.js';
import { type KeyEvent, sharedKeyWatches } from './key-watch.js';

/**
 * A gRPC service config kept in a Consul KV key (target parameter
 * `service-config`), read with a shared blocking watch and applied to a
 * channel live. Precedence: the key's config while it holds a valid one, else
 * the channel's own `grpc.service_config`, else round robin. A value that
 * is not a valid service config is refused with one log line (and an
 * onEvent), and the channel keeps what it had: the last good config, or the
 * default when there never was one. A deleted key is the default again.
 */
export type ServiceConfig = grpc.ServiceConfig;

export type ServiceConfigEvent =
  /** A config from the key is applied now; null: the key is absent, the default applies. */
  | { readonly type: 'service-config'; readonly service: string; readonly key: string; readonly config: ServiceConfig | null }
  /** A value from Consul that was refused; the channel keeps what it had. */
  | { readonly type: 'rejected'; readonly service: string; readonly what: 'service-config'; readonly key: string; readonly reason: string };

/** The KV key read when `service-config` is given without a value. */
export function defaultServiceConfigKey(service: string): string {
  return `grpc/service-config/${service}`;
}

const KV_KEY = /^[A-Za-z0-9_.-][A-Za-z0-9_./-]*$/;

/** The target parameter `service-config`: a KV key, or none (no value: the default key for the service). */
export function serviceConfigKeyParam(params: URLSearchParams, service: string, fail: (message: string) => never): string | undefined {
  const raw = params.get('service-config');
  if (raw === null) return undefined;
  if (raw === '') return defaultServiceConfigKey(service);
  if (!KV_KEY.test(raw) || raw.split('/').includes('..'))
    fail(`service-config must be a Consul KV key (letters, digits, '_', '.', '-', '/'; not starting with '/'), got ${JSON.stringify(raw)}`);
  return raw;
}

const ROUND_ROBIN_CONFIG = { round_robin: {} };

/**
 * Why grpc-js refuses a service config, or undefined when it takes it.
 * grpc-js 1.14 does not export its validator, but a channel runs it on its
 * `grpc.service_config` option when it is made, before it resolves or
 * connects anything: a channel made and closed at once (2-6 ms) asks the very
 * validator a channel applies, through the public API. Our own copy of the
 * rules would drift from grpc-js's; an import from its build would break on
 * any change of its file layout.
 */
function grpcJsRefusal(raw: object): string | undefined {
  let probe: grpc.Channel;
  try {
    probe = new grpc.Channel('dns:service-config.invalid', grpc.credentials.createInsecure(), {
      'grpc.service_config': JSON.stringify(raw),
    });
  } catch (error) {
    return (error as Error).message;
  }
  probe.close();
  return undefined;
}

/**
 * The service config a KV value holds, validated as grpc-js validates its
 * own, or why it is refused. Stricter than grpc-js in two places where it
 * would silently fall back to pick_first: a loadBalancingConfig entry of a
 * policy this grpc-js knows that does not parse (the outlier_detection
 * camelCase trap: grpc-js skips it at DEBUG level), `loadBalancingPolicy`
 * and a methodConfig that is not a list (both ignored by grpc-js). A config without loadBalancingConfig gets round
 * robin, the library's default, rather than grpc-js's pick_first.
 */
export function parseServiceConfig(text: string): { readonly config: ServiceConfig } | { readonly reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { reason: `not JSON: ${(error as Error).message}` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { reason: 'not a JSON object' };
  if ('loadBalancingPolicy' in raw) return { reason: 'loadBalancingPolicy is ignored by grpc-js; say loadBalancingConfig' };
  if ('methodConfig' in raw && !Array.isArray(raw.methodConfig)) return { reason: 'methodConfig is not a list (grpc-js would ignore it)' };
  const refusal = grpcJsRefusal(raw);
  if (refusal !== undefined) return { reason: refusal };
  const accepted = raw as Partial<ServiceConfig>;
  // The shape grpc-js's validator returns: both lists always there.
  const config: ServiceConfig = {
    ...accepted,
    loadBalancingConfig: accepted.loadBalancingConfig ?? [],
    methodConfig: accepted.methodConfig ?? [],
  };
  for (const entry of config.loadBalancingConfig) {
    const name = Object.keys(entry)[0] as string;
    if (!grpc.experimental.isLoadBalancerNameRegistered(name)) continue;
    try {
      grpc.experimental.parseLoadBalancingConfig(entry);
    } catch (error) {
      return { reason: `loadBalancingConfig ${(error as Error).message}` };
    }
  }
  if (config.loadBalancingConfig.length === 0) return { config: { ...config, loadBalancingConfig: [ROUND_ROBIN_CONFIG] } };
  if (grpc.experimental.selectLbConfigFromList(config.loadBalancingConfig) === null) {
    const names = config.loadBalancingConfig.map((entry) => Object.keys(entry)[0]).join(', ');
    return { reason: `no load-balancing policy this grpc-js knows among ${names}` };
  }
  return { config };
}

export interface KvServiceConfigSetup {
  readonly connection: ResolvedConnection;
  readonly key: string;
  readonly service: string;
  readonly tuning: WatchTuning;
  readonly logger: Logger;
  readonly onEvent: (event: ServiceConfigEvent) => void;
  /** The config this channel should use changed, or the key was read for the first time. */
  readonly onChange: () => void;
}

/** One channel's view of its service config key. */
export class KvServiceConfig {
  private subscription: { unsubscribe(): void } | undefined;
  private applied: grpc.experimental.StatusOr<ServiceConfig> | undefined;
  private appliedText: string | undefined;
  /** What was last logged, so a value (or an error) that stays is logged once. */
  private lastComplaint: string | undefined;
  private everRead = false;

  constructor(private readonly setup: KvServiceConfigSetup) {}

  /**
   * False until the key was first answered (or failed): the resolver holds
   * back its first set meanwhile, so a channel does not start its calls on
   * the default policy for the few milliseconds before the key's is known.
   */
  get settled(): boolean {
    return this.everRead;
  }

  /** The key's config while it holds a valid one; undefined: the default applies. */
  get current(): grpc.experimental.StatusOr<ServiceConfig> | undefined {
    return this.applied;
  }

  /** Changes whenever `current` does, to tell a new push from a repeated one. */
  get version(): string {
    return this.appliedText ?? '';
  }

  start(): void {
    this.subscription ??= sharedKeyWatches.subscribe(
      this.setup.connection,
      this.setup.key,
      (event) => this.onKeyEvent(event),
      this.setup.tuning,
      this.setup.logger,
    );
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  private onKeyEvent(event: KeyEvent): void {
    const firstRead = !this.everRead;
    this.everRead = true;
    const changed = event.kind === 'value' ? this.apply(event.value) : this.complain(`cannot be read: ${event.error.message}`);
    if (changed || firstRead) this.setup.onChange();
  }

  /** True when the config to use changed. */
  private apply(value: string | undefined): boolean {
    const { key, service } = this.setup;
    if (value === undefined) {
      this.lastComplaint = undefined;
      if (this.applied === undefined) return false;
      this.applied = undefined;
      this.appliedText = undefined;
      this.setup.logger.info({ key, service }, `consul: service config key ${key} is gone; ${service} uses the default config again`);
      this.setup.onEvent({ type: 'service-config', service, key, config: null });
      return true;
    }
    const parsed = parseServiceConfig(value);
    if ('reason' in parsed) {
      this.complain(`holds an invalid service config (${parsed.reason})`);
      this.setup.onEvent({ type: 'rejected', service, what: 'service-config', key, reason: parsed.reason });
      return false;
    }
    this.lastComplaint = undefined;
    const text = JSON.stringify(parsed.config);
    if (text === this.appliedText) return false;
    this.applied = grpc.experimental.statusOrFromValue(parsed.config);
    this.appliedText = text;
    this.setup.logger.info({ key, service }, `consul: ${service} uses the service config in ${key}`);
    this.setup.onEvent({ type: 'service-config', service, key, config: parsed.config });
    return true;
  }

  /** One line per distinct complaint; never a change of config. */
  private complain(problem: string): false {
    const { key, service } = this.setup;
    if (problem !== this.lastComplaint) {
      this.lastComplaint = problem;
      const keeping = this.applied ? 'the last good one' : 'the default';
      this.setup.logger.warn({ key, service }, `consul: service config key ${key} ${problem}; ${service} keeps ${keeping}`);
    }
    return false;
  }
}
