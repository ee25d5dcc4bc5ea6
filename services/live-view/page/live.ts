/**
 * The live view's script (live.html loads it as a module): follows the
 * feed's events at ./events and redraws the page on each. Three charts
 * (calls per second per instance, failed and wrong calls per second, latency
 * p50/p99) share one time axis with the chaos run's faults as shaded windows
 * and the plan ahead dashed; beside them the instances, the resolver's set and
 * its changes, the faults and their failover timings. Everything it draws
 * carries ids and data attributes that the e2e test reads in Chromium.
 */
import type { LiveEvents, LiveFault, LivePlan, LivePoint, LiveTimings, ResolverChange } from './live-events.js';

interface State {
  points: LivePoint[];
  changes: ResolverChange[];
  /** By index: an object rather than a Map, so that iterating it follows the indexes. */
  faults: Record<number, LiveFault>;
  plan: LivePlan | null;
  timings: LiveTimings | null;
}

const state: State = { points: [], changes: [], faults: {}, plan: null, timings: null };
const COLOURS = ['#1f77b4', '#2ca02c', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#bcbd22', '#7f7f7f'];
const colourOf = new Map<string, string>();
const SPAN_MS = 150_000;
/** As many points as the feed keeps (KEPT_POINTS in live-feed.ts). */
const KEPT_POINTS = 900;
const SVG = 'http://www.w3.org/2000/svg';

type Attributes = Record<string, string | number>;

/** The time span a chart shows, and where its time maps to on the chart. */
interface Axis {
  readonly from: number;
  readonly to: number;
  /** The last point's time: later than it is the plan ahead. */
  readonly now: number;
}

interface Scale extends Axis {
  at(t: number): number;
}

interface Frame {
  readonly x: Scale;
  readonly y: (value: number) => number;
  readonly top: number;
  readonly plotHeight: number;
}

/** Each instance keeps the colour it got first, whatever comes and goes. */
function colour(id: string): string {
  let chosen = colourOf.get(id);
  if (chosen === undefined) {
    // The palette is not empty, so the index is always in it; `??` is for the type checker.
    chosen = COLOURS[colourOf.size % COLOURS.length] ?? '#000';
    colourOf.set(id, chosen);
  }
  return chosen;
}

function withAttributes<E extends Element>(node: E, attrs: Attributes, text?: string): E {
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag: string, attrs: Attributes, text?: string): SVGElement {
  return withAttributes(document.createElementNS(SVG, tag), attrs, text);
}

function html<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attributes, text?: string): HTMLElementTagNameMap[K] {
  return withAttributes(document.createElement(tag), attrs, text);
}

function byId(id: string): Element {
  const node = document.getElementById(id);
  // Every id used here is in live.html: a missing one is a mistake there, said by name.
  if (!node) throw new Error(`live.html has no element #${id}`);
  return node;
}

function short(id: string): string {
  return id.replace(/^HelloService-/, '');
}

/** The instance of a resolved address: `instance@host:port`. */
function instanceOf(key: string): string {
  const at = key.indexOf('@');
  return at < 0 ? key : key.slice(0, at);
}

/** An instance's datacenter as a badge (data-datacenter for tests); nothing when the client knows none. */
function datacenterBadge(datacenter: string | undefined): HTMLSpanElement | undefined {
  return datacenter === undefined ? undefined : html('span', { class: 'dc', 'data-datacenter': datacenter }, datacenter);
}

function clock(t: number): string {
  return new Date(t).toLocaleTimeString();
}

/** The time axis: the last SPAN_MS at most, extended to show up to a minute of the plan ahead. */
function axis(): Axis {
  const last = state.points.at(-1)?.t ?? Date.now();
  let end = last;
  if (state.plan) {
    const planEnd = state.plan.methodStartedAt + state.plan.totalMs;
    if (planEnd > last) end = Math.min(planEnd, last + 60_000);
  }
  // A short history fills the chart instead of a corner of it.
  const first = state.points[0]?.t ?? last;
  const span = Math.min(SPAN_MS, Math.max(60_000, end - first + 5_000));
  return { from: end - span, to: end, now: last };
}

/** The faults so far as shaded windows (one still on reaches `now`), and the plan's steps not started yet as dashed ones. */
function faultWindows(chart: Element, x: Scale, top: number, height: number, now: number): void {
  for (const fault of Object.values(state.faults)) {
    const from = Math.max(fault.startedAt, x.from);
    const to = fault.endedAt ?? now;
    if (to < x.from) continue;
    const width = Math.max(2, x.at(to) - x.at(from));
    chart.appendChild(
      svg('rect', {
        x: x.at(from),
        y: top,
        width,
        height,
        fill: '#ffd8b3',
        opacity: 0.6,
        'data-fault-window': fault.index,
        'data-active': fault.endedAt === undefined ? 'true' : 'false',
      }),
    );
    chart.appendChild(svg('text', { x: x.at(from) + 2, y: top + 10, 'font-size': 10, fill: '#a0522d' }, `#${fault.index + 1}`));
  }
  const plan = state.plan;
  if (!plan) return;
  for (const step of plan.steps) {
    if (state.faults[step.index]) continue;
    const at = plan.methodStartedAt + step.atMs;
    const until = plan.methodStartedAt + (step.untilMs ?? step.atMs + 1_000);
    if (until < x.from || at > x.to) continue;
    const from = Math.max(at, x.from);
    chart.appendChild(
      svg('rect', {
        x: x.at(from),
        y: top,
        width: Math.max(2, x.at(Math.min(until, x.to)) - x.at(from)),
        height,
        fill: 'none',
        stroke: '#d2691e',
        'stroke-dasharray': '4 3',
        'data-planned': step.index,
      }),
    );
    chart.appendChild(svg('text', { x: x.at(from) + 2, y: top + 10, 'font-size': 10, fill: '#d2691e' }, `#${step.index + 1}`));
  }
}

/** Clears a chart and draws its axes: values from 0 to maxY, the time axis's labels every 30 s, and a mark at now if the plan goes beyond it. */
function frame(chart: Element, width: number, height: number, maxY: number, unit: string): Frame {
  chart.innerHTML = '';
  const left = 44;
  const right = 8;
  const top = 6;
  const bottom = 18;
  const span = axis();
  const x: Scale = { ...span, at: (t) => left + ((t - span.from) / (span.to - span.from)) * (width - left - right) };
  const y = (value: number): number => top + (height - top - bottom) * (1 - value / maxY);
  chart.appendChild(svg('line', { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, stroke: '#999' }));
  for (let i = 0; i <= 2; i += 1) {
    const value = (maxY * i) / 2;
    chart.appendChild(
      svg(
        'text',
        { x: left - 4, y: y(value) + 3, 'font-size': 10, 'text-anchor': 'end', fill: '#666' },
        `${Math.round(value * 10) / 10}${unit}`,
      ),
    );
  }
  for (let t = Math.ceil(x.from / 30_000) * 30_000; t <= x.to; t += 30_000) {
    chart.appendChild(svg('text', { x: x.at(t), y: height - 4, 'font-size': 10, 'text-anchor': 'middle', fill: '#666' }, clock(t)));
  }
  if (x.to > x.now) {
    chart.appendChild(
      svg('line', { x1: x.at(x.now), y1: top, x2: x.at(x.now), y2: height - bottom, stroke: '#bbb', 'stroke-dasharray': '2 2' }),
    );
  }
  return { x, y, top, plotHeight: height - top - bottom };
}

/** A path through the points' values; a point without one (or before the axis) is skipped. */
function line(
  chart: Element,
  f: Frame,
  points: readonly LivePoint[],
  value: (point: LivePoint) => number | undefined,
  attrs: Attributes,
): void {
  let d = '';
  for (const point of points) {
    const v = value(point);
    if (v === undefined || point.t < f.x.from) continue;
    d += `${d ? 'L' : 'M'}${f.x.at(point.t).toFixed(1)},${f.y(v).toFixed(1)}`;
  }
  if (d) chart.appendChild(svg('path', { d, fill: 'none', 'stroke-width': 1.6, ...attrs }));
}

function render(): void {
  const points = state.points;
  const last = points.at(-1);
  const now = last?.t ?? Date.now();
  const ids = [...new Set(points.flatMap((point) => Object.keys(point.rates)))].sort();
  const from = axis().from;
  const visible = points.filter((point) => point.t >= from);

  const calls = byId('calls');
  let maxRate = 1;
  for (const point of visible) maxRate = Math.max(maxRate, ...Object.values(point.rates));
  const f = frame(calls, 900, 260, maxRate * 1.15, '');
  faultWindows(calls, f.x, f.top, f.plotHeight, now);
  for (const id of ids) line(calls, f, visible, (point) => point.rates[id] ?? 0, { stroke: colour(id), 'data-line': id });

  const errors = byId('errors');
  let maxErrors = 1;
  for (const point of visible) maxErrors = Math.max(maxErrors, point.failedPerSecond, point.wrongPerSecond);
  const g = frame(errors, 900, 90, maxErrors, '');
  faultWindows(errors, g.x, g.top, g.plotHeight, now);
  for (const point of visible) {
    if (point.failedPerSecond > 0) {
      errors.appendChild(
        svg('rect', {
          x: g.x.at(point.t) - 2,
          y: g.y(point.failedPerSecond),
          width: 3,
          height: g.y(0) - g.y(point.failedPerSecond),
          fill: '#d62728',
        }),
      );
    }
    if (point.wrongPerSecond > 0) {
      errors.appendChild(
        svg('rect', {
          x: g.x.at(point.t) + 1,
          y: g.y(point.wrongPerSecond),
          width: 3,
          height: g.y(0) - g.y(point.wrongPerSecond),
          fill: '#9467bd',
        }),
      );
    }
  }

  const latency = byId('latency');
  let maxLatency = 1;
  for (const point of visible) if (point.p99 !== undefined) maxLatency = Math.max(maxLatency, point.p99);
  const h = frame(latency, 900, 130, maxLatency * 1.1, '');
  faultWindows(latency, h.x, h.top, h.plotHeight, now);
  line(latency, h, visible, (point) => point.p50, { stroke: '#1f77b4', 'data-line': 'p50' });
  line(latency, h, visible, (point) => point.p99, { stroke: '#d62728', 'data-line': 'p99' });

  if (last) {
    byId('rate').textContent = String(last.okPerSecond);
    byId('total-ok').textContent = String(last.totals.ok);
    byId('total-failed').textContent = String(last.totals.failed);
    byId('total-wrong').textContent = String(last.totals.wrong);
    byId('total-recovered').textContent = String(last.totals.recovered);
    byId('p50').textContent = last.p50 !== undefined ? `${last.p50} ms` : '–';
    byId('p99').textContent = last.p99 !== undefined ? `${last.p99} ms` : '–';
  }
  const resolvedNow = last?.resolved ?? [];
  const resolvedIds = new Set(resolvedNow.map(instanceOf));
  // A feed older than the datacenters field sends points without it.
  const datacenters = last?.datacenters ?? {};
  const instances = byId('instances');
  instances.innerHTML = '';
  for (const id of ids) {
    const rate = last?.rates[id] ?? 0;
    const row = html('tr', { 'data-instance': id, 'data-rate': rate, 'data-datacenter': datacenters[id] ?? '' });
    const name = html('td', {});
    name.appendChild(html('i', { class: 'swatch', style: `background:${colour(id)}` }));
    name.appendChild(document.createTextNode(short(id)));
    row.appendChild(name);
    const datacenter = html('td', {}, datacenters[id] === undefined ? '–' : '');
    const badge = datacenterBadge(datacenters[id]);
    if (badge) datacenter.appendChild(badge);
    row.appendChild(datacenter);
    row.appendChild(html('td', { class: 'num rate' }, String(rate)));
    row.appendChild(html('td', {}, resolvedIds.has(id) ? 'yes' : 'no'));
    instances.appendChild(row);
  }
  const resolved = byId('resolved');
  resolved.innerHTML = '';
  for (const key of resolvedNow) {
    const item = html('li', { 'data-resolved': instanceOf(key) }, `${short(key)} `);
    const badge = datacenterBadge(datacenters[instanceOf(key)]);
    if (badge) item.appendChild(badge);
    resolved.appendChild(item);
  }
  byId('resolved-count').textContent = last ? `(${last.resolved.length})` : '';
  const changes = byId('resolver-changes');
  changes.innerHTML = '';
  for (const change of [...state.changes].reverse()) {
    const keys = [...change.added.map((key) => `+${short(key)}`), ...change.removed.map((key) => `−${short(key)}`)];
    changes.appendChild(html('li', {}, `${clock(change.t)} ${keys.join(' ')}`));
  }
  renderFaults();
}

/** The plan's steps and the faults, by index: a fault once it started, its step until then. */
function renderFaults(): void {
  const list = byId('faults');
  list.innerHTML = '';
  const rows = new Map<number, { readonly what: 'planned' | 'active' | 'done'; readonly text: string }>();
  for (const step of state.plan?.steps ?? []) {
    rows.set(step.index, { what: 'planned', text: `${step.description} — at ${Math.round(step.atMs / 1_000)} s` });
  }
  for (const fault of Object.values(state.faults)) {
    const until = fault.endedAt !== undefined ? `–${clock(fault.endedAt)}` : ', now';
    const detail = fault.detail ? `: ${fault.detail}` : '';
    rows.set(fault.index, {
      what: fault.endedAt === undefined ? 'active' : 'done',
      text: `${fault.description} — ${clock(fault.startedAt)}${until}${detail}`,
    });
  }
  for (const [index, { what, text }] of [...rows].sort(([a], [b]) => a - b)) {
    list.appendChild(html('li', { class: what, 'data-fault': index, 'data-state': what }, `#${index + 1} ${text}`));
  }
  byId('plan-name').textContent = state.plan ? `(${state.plan.title}, seed ${state.plan.seed})` : '';
  renderTimings();
}

/** Per fault: out of the resolver's set, replacement's first call, failed and retried calls, latency in its window. */
function renderTimings(): void {
  const body = byId('timings');
  body.innerHTML = '';
  if (!state.timings) return;
  const seconds = (ms: number | undefined): string => (ms === undefined ? '–' : `${(ms / 1_000).toFixed(1)} s`);
  const steady = state.timings.steady;
  byId('steady').textContent = steady ? `(steady p50 / p99: ${steady.p50} / ${steady.p99} ms)` : '';
  for (const figure of state.timings.figures) {
    const row = html('tr', { 'data-timing': figure.index });
    const cells = [
      `#${figure.index + 1}`,
      seconds(figure.detectedAfterMs),
      seconds(figure.replacementFirstCallAfterMs),
      `${figure.failures}${figure.wrong ? ` (+${figure.wrong} wrong)` : ''}`,
      String(figure.recovered),
      figure.latency ? `${figure.latency.p50} / ${figure.latency.p99} ms` : '–',
    ];
    for (const text of cells) row.appendChild(html('td', {}, text));
    body.appendChild(row);
  }
}

// Relative: the page works wherever the feed is mounted.
const events = new EventSource('events');

/** Hands each `name` event's data, parsed (the feed sends JSON), to `handle`. */
function on<K extends keyof LiveEvents>(name: K, handle: (data: LiveEvents[K]) => void): void {
  events.addEventListener(name, (event) => handle(JSON.parse(event.data) as LiveEvents[K]));
}

on('snapshot', (snapshot) => {
  state.points = [...snapshot.points];
  state.changes = [...snapshot.changes];
  state.faults = {};
  for (const fault of snapshot.faults) state.faults[fault.index] = fault;
  state.plan = snapshot.plan ?? null;
  state.timings = snapshot.timings ?? null;
  byId('title').textContent = `gRPC + Consul failover: ${snapshot.source}`;
  render();
});
on('point', (point) => {
  state.points.push(point);
  if (state.points.length > KEPT_POINTS) state.points.shift();
  render();
});
on('resolver', (change) => {
  state.changes.push(change);
  render();
});
on('fault', (fault) => {
  state.faults[fault.index] = fault;
  render();
});
on('plan', (plan) => {
  state.plan = plan;
  render();
});
on('timings', (timings) => {
  state.timings = timings;
  renderTimings();
});
events.onopen = () => {
  const status = byId('status');
  status.textContent = 'live';
  status.className = '';
};
events.onerror = () => {
  const status = byId('status');
  status.textContent = 'disconnected: retrying…';
  status.className = 'down';
};
