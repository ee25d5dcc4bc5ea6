/**
 * The live view: one self-contained page (no script or style from elsewhere:
 * it must work offline and on a locked-down machine) that follows /events.
 * Calls per second per instance with the chaos run's faults as shaded
 * windows and the plan ahead dashed; failures and wrong answers per second;
 * latency p50/p99; the resolver's set and its changes; totals. Elements carry
 * ids and data attributes so a test in headless Chromium can read them.
 */
export const LIVE_PAGE = String.raw`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gRPC + Consul failover: live</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:16px 24px;color:#222;background:#fff}
h1{font-size:18px;margin:0 0 2px}h2{font-size:14px;margin:14px 0 4px}
#status{color:#666;font-size:12px}#status.down{color:#d62728}
.row{display:flex;gap:24px;flex-wrap:wrap}.main{flex:1 1 760px;min-width:0}.side{flex:0 1 380px}
.totals span{display:inline-block;margin-right:18px}.totals b{font-size:18px}
.bad{color:#d62728}.wrong{color:#9467bd}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:2px 6px;text-align:left;font-size:12px}
td.num{text-align:right;font-variant-numeric:tabular-nums}
i.swatch{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
ol,ul{margin:0;padding-left:18px;font-size:12px;max-height:220px;overflow:auto}#faults{list-style:none;padding-left:0}
li.active{font-weight:600}li.planned{color:#777}
svg{display:block;width:100%;height:auto;background:#fcfcfc;border:1px solid #eee}
</style></head><body>
<h1 id="title">gRPC + Consul failover: live</h1>
<div id="status">connecting…</div>
<div class="totals" id="totals">
<span>calls/s <b id="rate">–</b></span><span>ok <b id="total-ok">–</b></span>
<span class="bad">failed <b id="total-failed">–</b></span><span class="wrong">wrong <b id="total-wrong">–</b></span>
<span>recovered <b id="total-recovered">–</b></span><span>latency p50 <b id="p50">–</b> p99 <b id="p99">–</b></span>
</div>
<div class="row"><div class="main">
<h2>Calls per second, per instance <small>(shaded: faults; dashed: planned)</small></h2>
<svg id="calls" viewBox="0 0 900 260" role="img" aria-label="calls per second per instance"></svg>
<h2>Failed and wrong calls per second</h2>
<svg id="errors" viewBox="0 0 900 90" role="img" aria-label="failed and wrong calls per second"></svg>
<h2>Latency p50 / p99 (ms)</h2>
<svg id="latency" viewBox="0 0 900 130" role="img" aria-label="latency p50 and p99"></svg>
</div><div class="side">
<h2>Instances</h2>
<table><thead><tr><th>instance</th><th>calls/s</th><th>resolved</th></tr></thead><tbody id="instances"></tbody></table>
<h2>Resolver set <small id="resolved-count"></small></h2><ol id="resolved"></ol>
<h2>Resolver changes</h2><ol id="resolver-changes" reversed></ol>
<h2>Faults <small id="plan-name"></small></h2><ul id="faults"></ul>
<h2>Failover timings <small id="steady"></small></h2>
<table><thead><tr><th>fault</th><th>detected</th><th>recovered</th><th>failed</th><th>retried ok</th><th>p50 / p99</th></tr></thead><tbody id="timings"></tbody></table>
</div></div>
<script>
'use strict';
var state = { source: '', points: [], changes: [], faults: {}, plan: null, timings: null };
var COLOURS = ['#1f77b4', '#2ca02c', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#bcbd22', '#7f7f7f'];
var colourOf = {};
var SPAN_MS = 150000;
var SVG = 'http://www.w3.org/2000/svg';

function colour(id) {
  if (!colourOf[id]) colourOf[id] = COLOURS[Object.keys(colourOf).length % COLOURS.length];
  return colourOf[id];
}
function el(tag, attrs, text) {
  var node = document.createElementNS(SVG, tag);
  for (var key in attrs) node.setAttribute(key, attrs[key]);
  if (text !== undefined) node.textContent = text;
  return node;
}
function html(tag, attrs, text) {
  var node = document.createElement(tag);
  for (var key in attrs) node.setAttribute(key, attrs[key]);
  if (text !== undefined) node.textContent = text;
  return node;
}
function short(id) { return id.replace(/^HelloService-/, ''); }
function clock(t) { return new Date(t).toLocaleTimeString(); }

/** The time axis: the last SPAN_MS at most, extended to show up to a minute of the plan ahead. */
function axis() {
  var last = state.points.length ? state.points[state.points.length - 1].t : Date.now();
  var end = last;
  if (state.plan) {
    var planEnd = state.plan.methodStartedAt + state.plan.totalMs;
    if (planEnd > last) end = Math.min(planEnd, last + 60000);
  }
  // A short history fills the chart instead of a corner of it.
  var first = state.points.length ? state.points[0].t : last;
  var span = Math.min(SPAN_MS, Math.max(60000, end - first + 5000));
  return { from: end - span, to: end, now: last };
}

function faultWindows(svg, x, top, height, now) {
  var list = Object.keys(state.faults).map(function (k) { return state.faults[k]; });
  list.forEach(function (f) {
    var from = Math.max(f.startedAt, x.from);
    var to = f.endedAt !== undefined ? f.endedAt : now;
    if (to < x.from) return;
    var width = Math.max(2, x.at(to) - x.at(from));
    svg.appendChild(el('rect', { x: x.at(from), y: top, width: width, height: height, fill: '#ffd8b3', opacity: 0.6,
      'data-fault-window': f.index, 'data-active': f.endedAt === undefined ? 'true' : 'false' }));
    svg.appendChild(el('text', { x: x.at(from) + 2, y: top + 10, 'font-size': 10, fill: '#a0522d' }, '#' + (f.index + 1)));
  });
  if (!state.plan) return;
  state.plan.steps.forEach(function (step) {
    if (state.faults[step.index]) return;
    var at = state.plan.methodStartedAt + step.atMs;
    var until = state.plan.methodStartedAt + (step.untilMs !== undefined ? step.untilMs : step.atMs + 1000);
    if (until < x.from || at > x.to) return;
    svg.appendChild(el('rect', { x: x.at(Math.max(at, x.from)), y: top, width: Math.max(2, x.at(Math.min(until, x.to)) - x.at(Math.max(at, x.from))),
      height: height, fill: 'none', stroke: '#d2691e', 'stroke-dasharray': '4 3', 'data-planned': step.index }));
    svg.appendChild(el('text', { x: x.at(Math.max(at, x.from)) + 2, y: top + 10, 'font-size': 10, fill: '#d2691e' }, '#' + (step.index + 1)));
  });
}

function frame(svg, width, height, maxY, unit) {
  svg.innerHTML = '';
  var left = 44, right = 8, top = 6, bottom = 18;
  var x = axis();
  x.at = function (t) { return left + (t - x.from) / (x.to - x.from) * (width - left - right); };
  var y = function (v) { return top + (height - top - bottom) * (1 - v / maxY); };
  svg.appendChild(el('line', { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, stroke: '#999' }));
  for (var i = 0; i <= 2; i += 1) {
    var v = maxY * i / 2;
    svg.appendChild(el('text', { x: left - 4, y: y(v) + 3, 'font-size': 10, 'text-anchor': 'end', fill: '#666' }, (Math.round(v * 10) / 10) + unit));
  }
  for (var t = Math.ceil(x.from / 30000) * 30000; t <= x.to; t += 30000) {
    svg.appendChild(el('text', { x: x.at(t), y: height - 4, 'font-size': 10, 'text-anchor': 'middle', fill: '#666' }, clock(t)));
  }
  if (x.to > x.now) svg.appendChild(el('line', { x1: x.at(x.now), y1: top, x2: x.at(x.now), y2: height - bottom, stroke: '#bbb', 'stroke-dasharray': '2 2' }));
  return { x: x, y: y, top: top, plotHeight: height - top - bottom };
}

function line(svg, f, points, value, attrs) {
  var d = '';
  points.forEach(function (p) {
    var v = value(p);
    if (v === undefined || p.t < f.x.from) return;
    d += (d ? 'L' : 'M') + f.x.at(p.t).toFixed(1) + ',' + f.y(v).toFixed(1);
  });
  if (d) svg.appendChild(el('path', Object.assign({ d: d, fill: 'none', 'stroke-width': 1.6 }, attrs)));
}

function render() {
  var points = state.points;
  var last = points[points.length - 1];
  var instances = {};
  points.forEach(function (p) { for (var id in p.rates) instances[id] = true; });
  var ids = Object.keys(instances).sort();
  var visible = points.filter(function (p) { return p.t >= axis().from; });

  var calls = document.getElementById('calls');
  var maxRate = 1;
  visible.forEach(function (p) { for (var id in p.rates) maxRate = Math.max(maxRate, p.rates[id]); });
  var f = frame(calls, 900, 260, maxRate * 1.15, '');
  faultWindows(calls, f.x, f.top, f.plotHeight, last ? last.t : Date.now());
  ids.forEach(function (id) {
    line(calls, f, visible, function (p) { return p.rates[id] !== undefined ? p.rates[id] : 0; }, { stroke: colour(id), 'data-line': id });
  });

  var errors = document.getElementById('errors');
  var maxErr = 1;
  visible.forEach(function (p) { maxErr = Math.max(maxErr, p.failedPerSecond, p.wrongPerSecond); });
  var g = frame(errors, 900, 90, maxErr, '');
  faultWindows(errors, g.x, g.top, g.plotHeight, last ? last.t : Date.now());
  visible.forEach(function (p) {
    if (p.failedPerSecond > 0) errors.appendChild(el('rect', { x: g.x.at(p.t) - 2, y: g.y(p.failedPerSecond), width: 3, height: g.y(0) - g.y(p.failedPerSecond), fill: '#d62728' }));
    if (p.wrongPerSecond > 0) errors.appendChild(el('rect', { x: g.x.at(p.t) + 1, y: g.y(p.wrongPerSecond), width: 3, height: g.y(0) - g.y(p.wrongPerSecond), fill: '#9467bd' }));
  });

  var latency = document.getElementById('latency');
  var maxLatency = 1;
  visible.forEach(function (p) { if (p.p99 !== undefined) maxLatency = Math.max(maxLatency, p.p99); });
  var h = frame(latency, 900, 130, maxLatency * 1.1, '');
  faultWindows(latency, h.x, h.top, h.plotHeight, last ? last.t : Date.now());
  line(latency, h, visible, function (p) { return p.p50; }, { stroke: '#1f77b4', 'data-line': 'p50' });
  line(latency, h, visible, function (p) { return p.p99; }, { stroke: '#d62728', 'data-line': 'p99' });

  if (last) {
    document.getElementById('rate').textContent = String(last.okPerSecond);
    document.getElementById('total-ok').textContent = String(last.totals.ok);
    document.getElementById('total-failed').textContent = String(last.totals.failed);
    document.getElementById('total-wrong').textContent = String(last.totals.wrong);
    document.getElementById('total-recovered').textContent = String(last.totals.recovered);
    document.getElementById('p50').textContent = last.p50 !== undefined ? last.p50 + ' ms' : '–';
    document.getElementById('p99').textContent = last.p99 !== undefined ? last.p99 + ' ms' : '–';
  }
  var resolvedIds = {};
  (last ? last.resolved : []).forEach(function (key) { resolvedIds[key.split('@')[0]] = key; });
  var body = document.getElementById('instances');
  body.innerHTML = '';
  ids.forEach(function (id) {
    var rate = last && last.rates[id] !== undefined ? last.rates[id] : 0;
    var row = html('tr', { 'data-instance': id, 'data-rate': rate });
    var name = html('td', {});
    name.appendChild(html('i', { class: 'swatch', style: 'background:' + colour(id) }));
    name.appendChild(document.createTextNode(short(id)));
    row.appendChild(name);
    row.appendChild(html('td', { class: 'num rate' }, String(rate)));
    row.appendChild(html('td', {}, resolvedIds[id] ? 'yes' : 'no'));
    body.appendChild(row);
  });
  var resolved = document.getElementById('resolved');
  resolved.innerHTML = '';
  (last ? last.resolved : []).forEach(function (key) { resolved.appendChild(html('li', { 'data-resolved': key.split('@')[0] }, short(key))); });
  document.getElementById('resolved-count').textContent = last ? '(' + last.resolved.length + ')' : '';
  var changes = document.getElementById('resolver-changes');
  changes.innerHTML = '';
  state.changes.slice().reverse().forEach(function (c) {
    var text = clock(c.t) + ' ' + c.added.map(function (k) { return '+' + short(k); }).concat(c.removed.map(function (k) { return '−' + short(k); })).join(' ');
    changes.appendChild(html('li', {}, text));
  });
  renderFaults();
}

function renderFaults() {
  var list = document.getElementById('faults');
  list.innerHTML = '';
  var steps = state.plan ? state.plan.steps : [];
  var indexes = {};
  steps.forEach(function (s) { indexes[s.index] = s; });
  Object.keys(state.faults).forEach(function (k) { indexes[k] = indexes[k] || { index: Number(k), description: state.faults[k].description, atMs: 0 }; });
  Object.keys(indexes).map(Number).sort(function (a, b) { return a - b; }).forEach(function (index) {
    var fault = state.faults[index];
    var step = indexes[index];
    var what = fault ? (fault.endedAt === undefined ? 'active' : 'done') : 'planned';
    var text = '#' + (index + 1) + ' ' + (fault ? fault.description : step.description) + ' — ' +
      (fault ? clock(fault.startedAt) + (fault.endedAt !== undefined ? '–' + clock(fault.endedAt) : ', now') + (fault.detail ? ': ' + fault.detail : '')
        : 'at ' + Math.round(step.atMs / 1000) + ' s');
    list.appendChild(html('li', { class: what, 'data-fault': index, 'data-state': what }, text));
  });
  document.getElementById('plan-name').textContent = state.plan ? '(' + state.plan.title + ', seed ' + state.plan.seed + ')' : '';
  renderTimings();
}

/** Per fault: out of the resolver's set, replacement's first call, failed and retried calls, latency in its window. */
function renderTimings() {
  var body = document.getElementById('timings');
  body.innerHTML = '';
  if (!state.timings) return;
  var s = function (ms) { return ms === undefined || ms === null ? '–' : (ms / 1000).toFixed(1) + ' s'; };
  var steady = state.timings.steady;
  document.getElementById('steady').textContent = steady ? '(steady p50 / p99: ' + steady.p50 + ' / ' + steady.p99 + ' ms)' : '';
  state.timings.figures.forEach(function (f) {
    var row = html('tr', { 'data-timing': f.index });
    [
      '#' + (f.index + 1),
      s(f.detectedAfterMs),
      s(f.replacementFirstCallAfterMs),
      String(f.failures + (f.wrong ? ' (+' + f.wrong + ' wrong)' : '')),
      String(f.recovered),
      f.latency ? f.latency.p50 + ' / ' + f.latency.p99 + ' ms' : '–',
    ].forEach(function (text) { row.appendChild(html('td', {}, text)); });
    body.appendChild(row);
  });
}

var events = new EventSource('events');
events.addEventListener('snapshot', function (e) {
  var s = JSON.parse(e.data);
  state.source = s.source;
  state.points = s.points;
  state.changes = s.changes;
  state.faults = {};
  s.faults.forEach(function (f) { state.faults[f.index] = f; });
  state.plan = s.plan || null;
  state.timings = s.timings || null;
  document.getElementById('title').textContent = 'gRPC + Consul failover: ' + s.source;
  render();
});
events.addEventListener('point', function (e) { state.points.push(JSON.parse(e.data)); if (state.points.length > 900) state.points.shift(); render(); });
events.addEventListener('resolver', function (e) { state.changes.push(JSON.parse(e.data)); render(); });
events.addEventListener('fault', function (e) { var f = JSON.parse(e.data); state.faults[f.index] = f; render(); });
events.addEventListener('plan', function (e) { state.plan = JSON.parse(e.data); render(); });
events.addEventListener('timings', function (e) { state.timings = JSON.parse(e.data); renderTimings(); });
events.onopen = function () { var s = document.getElementById('status'); s.textContent = 'live'; s.className = ''; };
events.onerror = function () { var s = document.getElementById('status'); s.textContent = 'disconnected: retrying…'; s.className = 'down'; };
</script>
</body></html>
`;
