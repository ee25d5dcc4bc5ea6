import { instanceKey, type ServiceInstance } from '@grpc-consul-lab/consul-discovery';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LatencyHistogram } from '../../packages/contracts/latency-histogram.js';
import { SERVED_BY_KEPT, type StatsSnapshot } from '../../packages/contracts/stats.js';
import { DEFAULT_INSTANCE_RETENTION, InstanceLedger, type InstanceRetention } from './instance-ledger.js';

// Quantiles come from the most recent calls, so they follow a fault as it happens.
const LATENCY_WINDOW = 4_096;

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] ?? 0;
}

export interface CallStatsOptions {
  /** How long figures of a gone instance are kept (default: DEFAULT_INSTANCE_RETENTION). */
  readonly retention?: InstanceRetention;
  /** The clock (epoch ms); tests pass their own. */
  readonly now?: () => number;
}

/**
 * Everything the client knows about its calls. /stats (the contracts'
 * StatsSnapshot), /metrics, the once-a-second log line and the chaos
 * runner's probes all read from here. Totals are exact forever; figures per
 * instance last while the instance is resolved or answering, and for the
 * retention after (instance-ledger.ts).
 */
export class CallStats {
  readonly registry = new Registry();
  private okCount = 0;
  private failedCount = 0;
  private wrongCount = 0;
  private recoveredCount = 0;
  private readonly failedByCode = new Map<string, number>();
  private readonly instances: InstanceLedger;
  private readonly now: () => number;
  private resolved: string[] = [];
  private resolverErrorCount = 0;
  private readonly latencies: number[] = [];
  private readonly histogram = new LatencyHistogram();
  private latencyCursor = 0;
  private lastFailure: StatsSnapshot['lastFailure'];
  private lastWrong: StatsSnapshot['lastWrong'];
  private lastRecovered: StatsSnapshot['lastFailure'];
  private readonly startedAt: number;
  private readonly byDatacenter = new Map<string, { ok: number; failed: number; wrong: number }>();
  private readonly servedBy: { readonly datacenter: string; readonly at: number }[] = [];

  private readonly callsMetric = new Counter({
    name: 'hello_client_calls_total',
    help: 'SayHello calls by outcome',
    labelNames: ['outcome', 'code'],
    registers: [this.registry],
  });
  // A forgotten instance's series are removed, so this one's sum shrinks then: totals are hello_client_calls_total.
  private readonly instanceCallsMetric = new Counter({
    name: 'hello_client_instance_calls_total',
    help: 'SayHello calls answered, by outcome and instance (resolved or recently seen instances only)',
    labelNames: ['outcome', 'instance'],
    registers: [this.registry],
    collect: () => this.instances.forgetGone(this.now()),
  });
  private readonly latencyMetric = new Histogram({
    name: 'hello_client_call_duration_seconds',
    help: 'SayHello latency, retries included',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly resolvedMetric = new Gauge({
    name: 'hello_client_resolved_instances',
    help: 'instances the resolver currently offers',
    registers: [this.registry],
  });

  constructor({ retention = DEFAULT_INSTANCE_RETENTION, now = Date.now }: CallStatsOptions = {}) {
    this.now = now;
    this.startedAt = now();
    this.instances = new InstanceLedger(retention, (instance, counts) => {
      for (const outcome of ['ok', 'recovered', 'wrong'] as const) {
        if (counts[outcome] > 0) this.instanceCallsMetric.remove({ outcome, instance });
      }
    });
  }

  recordOk(instance: string, latencyMs: number): void {
    this.okCount += 1;
    const now = this.now();
    const entry = this.instances.answered(instance, now);
    entry.ok += 1;
    entry.firstOkAt ??= now;
    entry.lastOkAt = now;
    const datacenter = this.countFor(instance, 'ok');
    if (datacenter !== undefined && this.servedBy.at(-1)?.datacenter !== datacenter) {
      this.servedBy.push({ datacenter, at: now });
      if (this.servedBy.length > SERVED_BY_KEPT) this.servedBy.shift();
    }
    this.callsMetric.inc({ outcome: 'ok', code: 'OK' });
    this.instanceCallsMetric.inc({ outcome: 'ok', instance });
    this.recordLatency(latencyMs);
  }

  /** `instance`: the one that answered the call's headers before it failed, if any (its datacenter counts the failure). */
  recordFailure(code: string, details: string, latencyMs: number, instance?: string): void {
    this.failedCount += 1;
    if (instance !== undefined) this.countFor(instance, 'failed');
    this.failedByCode.set(code, (this.failedByCode.get(code) ?? 0) + 1);
    this.lastFailure = { at: new Date(this.now()).toISOString(), code, details };
    this.callsMetric.inc({ outcome: 'failed', code });
    this.recordLatency(latencyMs);
  }

  recordRecovered(instance: string, details: string): void {
    this.recoveredCount += 1;
    this.instances.answered(instance, this.now()).recovered += 1;
    this.callsMetric.inc({ outcome: 'recovered', code: 'UNAVAILABLE' });
    this.instanceCallsMetric.inc({ outcome: 'recovered', instance });
    this.lastRecovered = { at: new Date(this.now()).toISOString(), code: 'UNAVAILABLE', details };
  }

  recordWrong(instance: string, reason: string, latencyMs: number): void {
    this.wrongCount += 1;
    this.instances.answered(instance, this.now()).wrong += 1;
    this.countFor(instance, 'wrong');
    this.lastWrong = { at: new Date(this.now()).toISOString(), reason };
    this.callsMetric.inc({ outcome: 'wrong', code: 'OK' });
    this.instanceCallsMetric.inc({ outcome: 'wrong', instance });
    this.recordLatency(latencyMs);
  }

  /** The resolver's set, as the resolver gave it: kept by key (`id@address:port`), with each instance's datacenter. */
  recordResolved(instances: readonly ServiceInstance[]): void {
    const keys = instances.map(instanceKey);
    const datacenters = new Map<string, string>();
    for (const instance of instances) {
      if (instance.datacenter !== undefined) datacenters.set(instance.id, instance.datacenter);
    }
    this.resolved = keys;
    this.resolvedMetric.set(keys.length);
    this.instances.setResolved(keys, this.now(), datacenters);
  }

  recordResolverError(): void {
    this.resolverErrorCount += 1;
  }

  snapshot(): StatsSnapshot {
    const now = this.now();
    this.instances.forgetGone(now);
    const byInstance: Record<string, number> = {};
    const firstOkAtByInstance: Record<string, number> = {};
    const lastOkAtByInstance: Record<string, number> = {};
    for (const [instance, counts] of this.instances.entries) {
      if (counts.firstOkAt === undefined || counts.lastOkAt === undefined) continue;
      byInstance[instance] = counts.ok;
      firstOkAtByInstance[instance] = counts.firstOkAt;
      lastOkAtByInstance[instance] = counts.lastOkAt;
    }
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const round = (value: number): number => Math.round(value * 100) / 100;
    return {
      ok: this.okCount,
      failed: this.failedCount,
      wrong: this.wrongCount,
      total: this.okCount + this.failedCount + this.wrongCount,
      failedByCode: Object.fromEntries(this.failedByCode),
      recovered: this.recoveredCount,
      byInstance,
      firstOkAtByInstance,
      lastOkAtByInstance,
      forgotten: this.instances.totalsForgotten,
      resolvedInstances: this.resolved,
      datacenterByInstance: Object.fromEntries(this.instances.datacenterByInstance),
      byDatacenter: Object.fromEntries([...this.byDatacenter].map(([datacenter, counts]) => [datacenter, { ...counts }])),
      servedBy: [...this.servedBy],
      resolverErrors: this.resolverErrorCount,
      latencyMs: { p50: round(quantile(sorted, 0.5)), p99: round(quantile(sorted, 0.99)), max: round(sorted.at(-1) ?? 0) },
      latencyCounts: this.histogram.snapshot(),
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeMs: now - this.startedAt,
      ...(this.lastFailure && { lastFailure: this.lastFailure }),
      ...(this.lastWrong && { lastWrong: this.lastWrong }),
      ...(this.lastRecovered && { lastRecovered: this.lastRecovered }),
    };
  }

  /** Counts a call for the instance's datacenter, when it is known; returns that datacenter. */
  private countFor(instance: string, outcome: 'ok' | 'failed' | 'wrong'): string | undefined {
    const datacenter = this.instances.datacenterOf(instance);
    if (datacenter === undefined) return undefined;
    const counts = this.byDatacenter.get(datacenter) ?? { ok: 0, failed: 0, wrong: 0 };
    counts[outcome] += 1;
    this.byDatacenter.set(datacenter, counts);
    return datacenter;
  }

  private recordLatency(latencyMs: number): void {
    this.latencyMetric.observe(latencyMs / 1_000);
    this.histogram.record(latencyMs);
    if (this.latencies.length < LATENCY_WINDOW) this.latencies.push(latencyMs);
    else this.latencies[this.latencyCursor] = latencyMs;
    this.latencyCursor = (this.latencyCursor + 1) % LATENCY_WINDOW;
  }
}
