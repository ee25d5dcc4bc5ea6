import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LatencyHistogram } from '../../packages/contracts/latency-histogram.js';
import type { StatsSnapshot } from '../../packages/contracts/stats.js';

// Quantiles come from the most recent calls, so they follow a fault as it happens.
const LATENCY_WINDOW = 4_096;

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] ?? 0;
}

/**
 * Everything the client knows about its calls. /stats (the contracts'
 * StatsSnapshot), /metrics, the once-a-second log line and the chaos
 * runner's probes all read from here.
 */
export class CallStats {
  readonly registry = new Registry();
  private okCount = 0;
  private failedCount = 0;
  private wrongCount = 0;
  private recoveredCount = 0;
  private readonly failedByCode = new Map<string, number>();
  private readonly byInstance = new Map<string, number>();
  private readonly firstOkAt = new Map<string, number>();
  private readonly lastOkAt = new Map<string, number>();
  private resolved: string[] = [];
  private resolverErrorCount = 0;
  private readonly latencies: number[] = [];
  private readonly histogram = new LatencyHistogram();
  private latencyCursor = 0;
  private lastFailure: StatsSnapshot['lastFailure'];
  private lastWrong: StatsSnapshot['lastWrong'];
  private lastRecovered: StatsSnapshot['lastFailure'];
  private readonly startedAt = Date.now();

  private readonly callsMetric = new Counter({
    name: 'hello_client_calls_total',
    help: 'SayHello calls by outcome',
    labelNames: ['outcome', 'code', 'instance'],
    registers: [this.registry],
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

  recordOk(instance: string, latencyMs: number): void {
    this.okCount += 1;
    this.byInstance.set(instance, (this.byInstance.get(instance) ?? 0) + 1);
    const now = Date.now();
    if (!this.firstOkAt.has(instance)) this.firstOkAt.set(instance, now);
    this.lastOkAt.set(instance, now);
    this.callsMetric.inc({ outcome: 'ok', code: 'OK', instance });
    this.recordLatency(latencyMs);
  }

  recordFailure(code: string, details: string, latencyMs: number): void {
    this.failedCount += 1;
    this.failedByCode.set(code, (this.failedByCode.get(code) ?? 0) + 1);
    this.lastFailure = { at: new Date().toISOString(), code, details };
    this.callsMetric.inc({ outcome: 'failed', code, instance: '' });
    this.recordLatency(latencyMs);
  }

  recordRecovered(instance: string, details: string): void {
    this.recoveredCount += 1;
    this.callsMetric.inc({ outcome: 'recovered', code: 'UNAVAILABLE', instance });
    this.lastRecovered = { at: new Date().toISOString(), code: 'UNAVAILABLE', details };
  }

  recordWrong(instance: string, reason: string, latencyMs: number): void {
    this.wrongCount += 1;
    this.lastWrong = { at: new Date().toISOString(), reason };
    this.callsMetric.inc({ outcome: 'wrong', code: 'OK', instance });
    this.recordLatency(latencyMs);
  }

  recordResolved(instances: readonly string[]): void {
    this.resolved = [...instances];
    this.resolvedMetric.set(instances.length);
  }

  recordResolverError(): void {
    this.resolverErrorCount += 1;
  }

  snapshot(): StatsSnapshot {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const round = (value: number): number => Math.round(value * 100) / 100;
    return {
      ok: this.okCount,
      failed: this.failedCount,
      wrong: this.wrongCount,
      total: this.okCount + this.failedCount + this.wrongCount,
      failedByCode: Object.fromEntries(this.failedByCode),
      recovered: this.recoveredCount,
      byInstance: Object.fromEntries(this.byInstance),
      firstOkAtByInstance: Object.fromEntries(this.firstOkAt),
      lastOkAtByInstance: Object.fromEntries(this.lastOkAt),
      resolvedInstances: this.resolved,
      resolverErrors: this.resolverErrorCount,
      latencyMs: { p50: round(quantile(sorted, 0.5)), p99: round(quantile(sorted, 0.99)), max: round(sorted.at(-1) ?? 0) },
      latencyCounts: this.histogram.snapshot(),
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeMs: Date.now() - this.startedAt,
      ...(this.lastFailure && { lastFailure: this.lastFailure }),
      ...(this.lastWrong && { lastWrong: this.lastWrong }),
      ...(this.lastRecovered && { lastRecovered: this.lastRecovered }),
    };
  }

  private recordLatency(latencyMs: number): void {
    this.latencyMetric.observe(latencyMs / 1_000);
    this.histogram.record(latencyMs);
    if (this.latencies.length < LATENCY_WINDOW) this.latencies.push(latencyMs);
    else this.latencies[this.latencyCursor] = latencyMs;
    this.latencyCursor = (this.latencyCursor + 1) % LATENCY_WINDOW;
  }
}
