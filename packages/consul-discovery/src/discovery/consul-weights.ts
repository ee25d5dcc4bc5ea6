import type * as grpc from '@grpc/grpc-js';
import type { ServiceInstance } from '../consul/consul-http.js';
import type { Logger } from '../internal/logger.js';

/**
 * Consul's service `Weights` ({Passing, Warning}) honoured by the client
 * (target parameter `weights=consul`): an instance in passing state counts
 * its Passing weight, one in warning state (included only in this mode) its
 * Warning weight; 0 sends it nothing.
 *
 * How: each instance's endpoint is REPEATED in the resolved list in
 * proportion to its weight. grpc-js 1.14 has no static weighted policy;
 * round_robin (read in its build) makes one child per list entry, sharing
 * the subchannel of equal addresses, and cycles over the READY children, so
 * a list holding A three times and B once sends exactly 3 of every 4 picks
 * to A, with no policy of our own to maintain. outlier_detection over
 * round_robin keys its ejection by address, so it ejects every copy at once.
 * weighted_round_robin, by contrast, keys its children by address: the
 * copies collapse into one, and its own ORCA weights (or, without load
 * reports, equal ones) decide, which is what should win when servers report
 * load. pick_first ignores weights. A custom LB policy
 * (registerLoadBalancerType) would need weights carried beside the
 * endpoints, for which 1.14's Endpoint has no field.
 *
 * Weights are divided by their greatest common divisor, and scaled down so
 * that no instance is repeated more than MAX_REPEATS times (each at least
 * once): ratios beyond 100:1 are approximated. Copies are interleaved
 * (A B A A rather than A A A B), so the split holds over short spans too.
 */
export const MAX_REPEATS = 100;

export interface Weights {
  readonly passing: number;
  readonly warning: number;
}

/** What Consul assumes when a service has no Weights. */
const CONSUL_DEFAULT: Weights = { passing: 1, warning: 1 };

export interface WeightsRejectedEvent {
  readonly type: 'rejected';
  readonly service: string;
  readonly what: 'weights';
  readonly instance: string;
  readonly reason: string;
}

/** The target parameter `weights`: `consul` turns the mode on. */
export function weightsParam(params: URLSearchParams, fail: (message: string) => never): 'consul' | undefined {
  const raw = params.get('weights');
  if (raw === null) return undefined;
  if (raw !== 'consul') fail(`weights must be "consul" (Consul's service Weights), got ${JSON.stringify(raw)}`);
  return raw;
}

/** Instances a weighted channel may call: passing and warning ones (Consul is asked for every instance in this mode). */
export function servingInstances(instances: readonly ServiceInstance[]): ServiceInstance[] {
  return instances.filter((instance) => instance.status !== 'critical');
}

/** What, beside its address, makes a weighted instance a change to push: its state and its Weights. */
export function weightsIdentity(instance: ServiceInstance): string {
  return `${instance.status}:${JSON.stringify(instance.weights ?? null)}`;
}

function readWeights(raw: unknown): Weights | string {
  if (raw === undefined || raw === null) return CONSUL_DEFAULT;
  if (typeof raw !== 'object' || Array.isArray(raw)) return `${JSON.stringify(raw)} is not an object`;
  const { Passing: passing, Warning: warning } = raw as Record<string, unknown>;
  const count = (value: unknown): boolean => typeof value === 'number' && Number.isInteger(value) && value >= 0;
  if (!count(passing) || !count(warning)) return `${JSON.stringify(raw)} needs Passing and Warning as whole numbers, 0 or more`;
  return { passing: passing as number, warning: warning as number };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Repetitions per weight: reduced by their gcd, the largest capped at MAX_REPEATS. */
export function repetitions(weights: readonly number[]): number[] {
  const positive = weights.filter((weight) => weight > 0);
  if (positive.length === 0) return weights.map(() => 0);
  const divisor = positive.reduce(gcd);
  const reduced = weights.map((weight) => weight / divisor);
  const largest = Math.max(...reduced);
  if (largest <= MAX_REPEATS) return reduced;
  return reduced.map((weight) => (weight === 0 ? 0 : Math.max(1, Math.round((weight * MAX_REPEATS) / largest))));
}

/** One channel's weighting: remembers each instance's last good Weights, and complains once per bad value. */
export class ConsulWeights {
  private lastGood = new Map<string, Weights>();
  private complained = new Map<string, string>();

  constructor(
    private readonly service: string,
    private readonly logger: Logger,
    private readonly onEvent: (event: WeightsRejectedEvent) => void,
  ) {}

  /** The endpoint list for these instances, each repeated by its weight, copies interleaved. */
  endpoints(instances: readonly ServiceInstance[]): grpc.experimental.Endpoint[] {
    const lastGood = new Map<string, Weights>();
    const complained = new Map<string, string>();
    const weights = instances.map((instance) => {
      const read = readWeights(instance.weights);
      let good: Weights;
      if (typeof read === 'string') {
        good = this.lastGood.get(instance.id) ?? CONSUL_DEFAULT;
        complained.set(instance.id, read);
        if (this.complained.get(instance.id) !== read) this.complain(instance.id, read, good);
      } else {
        good = read;
      }
      lastGood.set(instance.id, good);
      return instance.status === 'passing' ? good.passing : instance.status === 'warning' ? good.warning : 0;
    });
    this.lastGood = lastGood;
    this.complained = complained;
    const counts = repetitions(weights);
    // Copy k of an instance repeated n times sits at (k + 0.5) / n along the
    // cycle: sorting by that interleaves the copies evenly.
    const slots = instances.flatMap((instance, index) =>
      Array.from({ length: counts[index] ?? 0 }, (_, k) => ({ instance, at: (k + 0.5) / (counts[index] ?? 1), index })),
    );
    slots.sort((a, b) => a.at - b.at || a.index - b.index);
    return slots.map(({ instance }) => ({ addresses: [{ host: instance.address, port: instance.port }] }));
  }

  private complain(instance: string, reason: string, using: Weights): void {
    this.logger.warn(
      { service: this.service, instance },
      `consul: Weights of ${this.service} instance ${instance} refused: ${reason}; it is weighted ${using.passing} passing / ${using.warning} warning (its last good Weights, else Consul's default)`,
    );
    this.onEvent({ type: 'rejected', service: this.service, what: 'weights', instance, reason });
  }
}
