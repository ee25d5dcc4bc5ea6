import * as grpc from '@grpc/grpc-js';
import type { ServiceInstance } from '../consul/consul-http.js';
import { instanceKey } from './health-watch.js';
import { trace } from './trace.js';

/**
 * Connecting to an instance while Consul still has it critical, so that the
 * channel finds the connection READY when the instance passes (its first
 * call then skips TCP, TLS and the HTTP/2 settings).
 *
 * How the connection is shared (grpc-js 1.14, subchannel-pool.js
 * getOrCreateSubchannel): channels share a subchannel, and so its
 * connection, when their target URI is the same string, the address is the
 * same, their subchannel options are equal key by key (===), and the
 * credentials are _equals (the same object is). So the side channel here
 * has the main channel's `consul:` target and options, and its credentials
 * are the caller's, which must be the object the client was given. The only
 * option it adds, the address to connect to, is under grpc-js's prefix for
 * options kept from subchannels, and the resolver that reads it pushes that
 * one address with the main channel's own service config (round_robin adds
 * an option to subchannels that pick_first does not: policies must match).
 */
export interface PreconnectOptions {
  /** The very object the client was given: other credentials, even built alike, mean a second connection. */
  readonly credentials: grpc.ChannelCredentials;
  /** Side connections open at once, at most. Default 10. */
  readonly maxInstances?: number;
  /** An instance not passing this long after its side connection opened has it closed, and gets no other. Default 30 s. */
  readonly maxWaitMs?: number;
}

/** The channel option of a side channel: the one address its resolver pushes. */
export const PRECONNECT_ADDRESS_KEY = `${grpc.experimental.SUBCHANNEL_ARGS_EXCLUDE_KEY_PREFIX}.grpc-consul-lab.preconnect_address`;

const DEFAULT_MAX_INSTANCES = 10;
const DEFAULT_MAX_WAIT_MS = 30_000;

export function preconnectAddressOf(channelOptions: grpc.ChannelOptions): grpc.experimental.SubchannelAddress | undefined {
  return channelOptions[PRECONNECT_ADDRESS_KEY] as grpc.experimental.SubchannelAddress | undefined;
}

function positive(name: string, value: number, whole: boolean): number {
  if (!Number.isFinite(value) || value <= 0 || (whole && !Number.isInteger(value))) {
    throw new TypeError(`${name} must be a ${whole ? 'whole ' : ''}number above 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** One main channel's side channels, by instanceKey. */
export class Preconnector {
  private readonly open = new Map<string, { readonly channel: grpc.Channel; readonly timer: NodeJS.Timeout }>();
  /** Instances whose side connection timed out: not opened again while they stay registered (bounded by the registered set). */
  private readonly gaveUp = new Set<string>();
  private readonly maxInstances: number;
  private readonly maxWaitMs: number;

  constructor(
    private readonly target: string,
    private readonly channelOptions: grpc.ChannelOptions,
    private readonly options: PreconnectOptions,
  ) {
    if (!(options.credentials instanceof grpc.ChannelCredentials)) {
      throw new TypeError('preconnect.credentials must be the grpc.ChannelCredentials object the client was given');
    }
    this.maxInstances = positive('preconnect.maxInstances', options.maxInstances ?? DEFAULT_MAX_INSTANCES, true);
    this.maxWaitMs = positive('preconnect.maxWaitMs', options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS, false);
  }

  /** Every registered instance of the service: critical ones get a side connection, within the bounds. */
  registered(instances: readonly ServiceInstance[]): void {
    const keys = new Set(instances.map(instanceKey));
    for (const key of this.open.keys()) if (!keys.has(key)) this.close(key);
    for (const key of this.gaveUp) if (!keys.has(key)) this.gaveUp.delete(key);
    for (const instance of instances) {
      const key = instanceKey(instance);
      if (instance.status !== 'critical' || this.open.has(key) || this.gaveUp.has(key)) continue;
      if (this.open.size >= this.maxInstances) return;
      this.connect(key, { host: instance.address, port: instance.port });
    }
  }

  /**
   * The main channel was just handed these instances: its load balancer took
   * their subchannels from the pool during that call, so closing the side
   * channels now leaves the connections in use.
   */
  handedOver(instances: readonly ServiceInstance[]): void {
    for (const instance of instances) this.close(instanceKey(instance));
  }

  closeAll(): void {
    for (const key of [...this.open.keys()]) this.close(key);
    this.gaveUp.clear();
  }

  private connect(key: string, address: grpc.experimental.SubchannelAddress): void {
    trace(`${this.target}: preconnecting to ${key}`);
    const channel = new grpc.Channel(this.target, this.options.credentials, { ...this.channelOptions, [PRECONNECT_ADDRESS_KEY]: address });
    channel.getConnectivityState(true);
    const timer = setTimeout(() => {
      trace(`${this.target}: ${key} did not pass within ${this.maxWaitMs} ms; its side connection is closed`);
      this.close(key);
      this.gaveUp.add(key);
    }, this.maxWaitMs);
    timer.unref();
    this.open.set(key, { channel, timer });
  }

  private close(key: string): void {
    const side = this.open.get(key);
    if (!side) return;
    clearTimeout(side.timer);
    side.channel.close();
    this.open.delete(key);
  }
}
