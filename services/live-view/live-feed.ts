import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StatsSnapshot } from '../../packages/contracts/stats.js';
import { windowLatency } from '../../packages/contracts/latency-histogram.js';
import { loadLivePage } from './live-page.js';
import type { LiveEvents, LiveFault, LivePlan, LivePoint, LiveSnapshot, LiveTimings, ResolverChange } from './page/live-events.js';
import { instanceIdOf } from '@grpc-consul-lab/consul-discovery';

const KEPT_POINTS = 900;
const KEPT_CHANGES = 200;
const HEARTBEAT_MS = 15_000;
// At start-up: see loadLivePage.
const PAGE = loadLivePage();

/**
 * The live view's data: one point a second computed from the client's
 * counters, each change of the resolver's set, and (in a chaos run) the plan
 * and each fault as it starts and ends. Browsers get it as server-sent
 * events: everything so far on connecting, then each new piece. The same
 * feed serves the client's own page (`make up`) and the chaos runner's.
 * What each event carries: page/live-events.ts, which the page's script
 * (page/live.ts) types its side against too.
 */
export class LiveFeed {
  private readonly points: LivePoint[] = [];
  private readonly changes: ResolverChange[] = [];
  private readonly faults = new Map<number, LiveFault>();
  private plan: LivePlan | undefined;
  private timings: LiveTimings | undefined;
  private previous: { readonly stats: StatsSnapshot; readonly t: number } | undefined;
  private readonly browsers = new Set<ServerResponse>();
  private readonly heartbeat = setInterval(() => this.send(': keepalive\n\n'), HEARTBEAT_MS).unref();

  /** `source` names what is watched, for the page's title (the client, or a chaos run). */
  constructor(private readonly source: string) {}

  /** A reading of the client's counters; the first one only sets the starting point. */
  push(stats: StatsSnapshot, t = Date.now()): void {
    const previous = this.previous;
    this.previous = { stats, t };
    if (!previous) return;
    const seconds = Math.max(0.001, (t - previous.t) / 1_000);
    // An instance is in the point while it answers, is resolved, or has just
    // stopped answering (its line drops to 0); instances long gone are not.
    // A client older than this view may lack a field: show what there is.
    const resolvedNow = stats.resolvedInstances ?? [];
    const resolvedIds = new Set(resolvedNow.map(instanceIdOf));
    const lastRates = this.points.at(-1)?.rates ?? {};
    const rates: Record<string, number> = {};
    for (const [instance, count] of Object.entries(stats.byInstance)) {
      const rate = round((count - (previous.stats.byInstance[instance] ?? 0)) / seconds);
      if (rate > 0 || resolvedIds.has(instance) || (lastRates[instance] ?? 0) > 0) rates[instance] = rate;
    }
    const latency = windowLatency(previous.stats.latencyCounts, stats.latencyCounts ?? {});
    const point: LivePoint = {
      t,
      rates,
      okPerSecond: round((stats.ok - previous.stats.ok) / seconds),
      failedPerSecond: round((stats.failed - previous.stats.failed) / seconds),
      wrongPerSecond: round((stats.wrong - previous.stats.wrong) / seconds),
      ...(latency && { p50: latency.p50, p99: latency.p99 }),
      totals: { ok: stats.ok, failed: stats.failed, wrong: stats.wrong, recovered: stats.recovered },
      resolved: resolvedNow,
      datacenters: stats.datacenterByInstance,
    };
    keep(this.points, point, KEPT_POINTS);
    this.broadcast('point', point);
    const before = new Set(previous.stats.resolvedInstances ?? []);
    const now = new Set(resolvedNow);
    const change: ResolverChange = {
      t,
      added: [...now].filter((key) => !before.has(key)),
      removed: [...before].filter((key) => !now.has(key)),
    };
    if (change.added.length > 0 || change.removed.length > 0) {
      keep(this.changes, change, KEPT_CHANGES);
      this.broadcast('resolver', change);
    }
  }

  setPlan(plan: LivePlan): void {
    this.plan = plan;
    this.broadcast('plan', plan);
  }

  setTimings(timings: LiveTimings): void {
    this.timings = timings;
    this.broadcast('timings', timings);
  }

  faultStarted(fault: LiveFault): void {
    this.faults.set(fault.index, { ...fault });
    this.broadcast('fault', fault);
  }

  /** The fault is over (undone, or applied and done for faults that need no undo). */
  faultEnded(index: number, at: number, outcome?: string, detail?: string): void {
    const fault = this.faults.get(index);
    if (!fault) return;
    fault.endedAt = at;
    if (outcome !== undefined) fault.outcome = outcome;
    if (detail !== undefined) fault.detail = detail;
    this.broadcast('fault', fault);
  }

  snapshot(): LiveSnapshot {
    return {
      source: this.source,
      points: this.points,
      changes: this.changes,
      faults: [...this.faults.values()],
      ...(this.plan && { plan: this.plan }),
      ...(this.timings && { timings: this.timings }),
    };
  }

  /** Serves the page at / (its stylesheet and script beside it) and the events at /events; returns false for any other path. */
  handle(request: IncomingMessage, response: ServerResponse): boolean {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const file = PAGE.get(path);
    if (file) {
      // no-store: a rebuilt page shows on the next reload.
      response.writeHead(200, { 'content-type': file.contentType, 'cache-control': 'no-store' }).end(file.body);
      return true;
    }
    if (path !== '/events') return false;
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    response.write(`retry: 1000\nevent: snapshot\ndata: ${JSON.stringify(this.snapshot())}\n\n`);
    this.browsers.add(response);
    request.on('close', () => this.browsers.delete(response));
    return true;
  }

  /** Ends every open event stream (the server is closing). */
  close(): void {
    clearInterval(this.heartbeat);
    for (const response of this.browsers) response.end();
    this.browsers.clear();
  }

  private broadcast<K extends keyof LiveEvents>(event: K, data: LiveEvents[K]): void {
    this.send(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private send(text: string): void {
    for (const response of this.browsers) response.write(text);
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function keep<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
