import type { Journal, Verdict } from '../engine/journal.js';
import { failoverLine } from '../engine/datacenter-switches.js';
import { proofLine, unprovenWhy } from '../engine/verdict.js';
import { faultFigures, figuresByKind, type LatencyQuantiles, steadyLatency } from './fault-figures.js';

/**
 * The HTML report, made from the journal alone: a chart of calls per second
 * per instance with failures in red and fault windows shaded, a table per
 * fault, the probes and the rollbacks. Self-contained: inline SVG, no script.
 */
const escape = (text: string): string =>
  text.replace(/[&<>"]/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[char] ?? char);
const PALETTE = ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#aec7e8', '#98df8a'];
const FAILURE_COLOUR = '#d62728';
const WRONG_COLOUR = '#000000';

interface Bar {
  readonly t: number;
  readonly seconds: number;
  readonly byInstance: Record<string, number>;
  readonly failed: number;
  readonly wrong: number;
}

function bars(journal: Journal): Bar[] {
  const result: Bar[] = [];
  for (let i = 1; i < journal.samples.length; i += 1) {
    const previous = journal.samples[i - 1];
    const current = journal.samples[i];
    if (!previous || !current) continue;
    const seconds = Math.max(0.001, (current.t - previous.t) / 1_000);
    const byInstance: Record<string, number> = {};
    for (const [id, count] of Object.entries(current.byInstance)) {
      const delta = count - (previous.byInstance[id] ?? 0);
      if (delta > 0) byInstance[id] = delta / seconds;
    }
    result.push({
      t: current.t,
      seconds,
      byInstance,
      failed: (current.failed - previous.failed) / seconds,
      wrong: (current.wrong - previous.wrong) / seconds,
    });
  }
  return result;
}

function chart(journal: Journal): string {
  const data = bars(journal);
  const start = journal.samples[0]?.t ?? journal.startedAt;
  const end = Math.max(journal.endedAt, data.at(-1)?.t ?? start + 1);
  const instances = [...new Set(data.flatMap((bar) => Object.keys(bar.byInstance)))].sort();
  const colour = (id: string): string => PALETTE[instances.indexOf(id) % PALETTE.length] ?? '#999';
  const width = 960;
  const height = 320;
  const left = 50;
  const bottom = 30;
  const top = 20;
  const plotWidth = width - left - 10;
  const plotHeight = height - bottom - top;
  const peak = Math.max(1, ...data.map((bar) => Object.values(bar.byInstance).reduce((a, b) => a + b, 0) + bar.failed + bar.wrong));
  const x = (t: number): number => left + ((t - start) / (end - start)) * plotWidth;
  const y = (value: number): number => top + plotHeight - (value / peak) * plotHeight;
  const parts: string[] = [];
  for (const action of journal.actions.filter((entry) => entry.outcome === 'done')) {
    const from = x(action.startedAt);
    const to = x(Math.max(action.undoneAt ?? action.endedAt, action.endedAt) + 500);
    parts.push(
      `<rect class="fault" x="${from.toFixed(1)}" y="${top}" width="${Math.max(2, to - from).toFixed(1)}" height="${plotHeight}" fill="#ff7f0e" fill-opacity="0.18"><title>#${action.index + 1} ${escape(action.description)}: ${escape(action.detail)}</title></rect>`,
    );
    parts.push(`<text x="${(from + 2).toFixed(1)}" y="${top + 12}" font-size="10" fill="#b35900">#${action.index + 1}</text>`);
  }
  for (const bar of data) {
    const x1 = x(bar.t - bar.seconds * 1_000);
    const barWidth = Math.max(1, x(bar.t) - x1 - 1);
    let stacked = 0;
    const segments: [string, number, string][] = [
      ...instances
        .filter((id) => (bar.byInstance[id] ?? 0) > 0)
        .map((id): [string, number, string] => [colour(id), bar.byInstance[id] ?? 0, id]),
      ...(bar.failed > 0 ? [[FAILURE_COLOUR, bar.failed, 'failed'] as [string, number, string]] : []),
      ...(bar.wrong > 0 ? [[WRONG_COLOUR, bar.wrong, 'wrong'] as [string, number, string]] : []),
    ];
    for (const [fill, value, label] of segments) {
      const y1 = y(stacked + value);
      parts.push(
        `<rect class="${label === 'failed' ? 'failed' : 'calls'}" x="${x1.toFixed(1)}" y="${y1.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(y(stacked) - y1).toFixed(1)}" fill="${fill}"><title>${escape(label)}: ${value.toFixed(1)}/s</title></rect>`,
      );
      stacked += value;
    }
  }
  const ticks = [0, 0.5, 1].map(
    (f) => `<text x="${left - 6}" y="${(y(peak * f) + 4).toFixed(1)}" font-size="10" text-anchor="end">${Math.round(peak * f)}</text>`,
  );
  const seconds = Math.ceil((end - start) / 1_000);
  const step = Math.max(5, Math.ceil(seconds / 12 / 5) * 5);
  const xTicks: string[] = [];
  for (let s = 0; s <= seconds; s += step)
    xTicks.push(`<text x="${x(start + s * 1_000).toFixed(1)}" y="${height - 10}" font-size="10" text-anchor="middle">${s}s</text>`);
  const legend = [
    ...instances.map((id) => [colour(id), id]),
    [FAILURE_COLOUR, 'failed'],
    [WRONG_COLOUR, 'wrong'],
    ['#ffd8b3', 'fault window'],
  ]
    .map(([fill, label]) => `<span class="key"><i style="background:${fill}"></i>${escape(label ?? '')}</span>`)
    .join(' ');
  return `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="calls per second per instance">
<line x1="${left}" y1="${top + plotHeight}" x2="${width - 10}" y2="${top + plotHeight}" stroke="#333"/><line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotHeight}" stroke="#333"/>
${parts.join('\n')}
${ticks.join('')}${xTicks.join('')}<text x="12" y="${top + plotHeight / 2}" font-size="10" transform="rotate(-90 12 ${top + plotHeight / 2})" text-anchor="middle">calls/s</text>
</svg><div class="legend">${legend}</div>`;
}

const ms = (value: number | undefined): string => (value === undefined ? '–' : `${(value / 1_000).toFixed(1)} s`);
const latency = (value: LatencyQuantiles | undefined): string => (value === undefined ? '–' : `${value.p50} / ${value.p99} ms`);

/** The verdict's badge: its words and its colour (class). Journals from before verdicts: from status and probes. */
function badge(journal: Journal): { words: string; colour: string } {
  const verdict: Verdict = journal.verdict ?? (journal.status === 'interrupted' ? 'interrupted' : journal.deviated ? 'violated' : 'held');
  const words: Record<Verdict, string> = {
    held: 'HYPOTHESIS HELD',
    violated: 'HYPOTHESIS VIOLATED',
    unproven: 'UNPROVEN: A FAULT DID NOT APPLY',
    'not-steady': 'NOT STEADY BEFORE THE FAULTS',
    interrupted: 'INTERRUPTED',
  };
  const colour = verdict === 'not-steady' ? 'violated' : verdict;
  return { words: words[verdict], colour };
}

/**
 * Per fault that took out a datacenter: time to fail over and to fail back,
 * from the client's served-by switches; empty when the run had none.
 */
function datacenterFailovers(journal: Journal): string {
  const rows = journal.actions
    .filter((action) => action.failover !== undefined)
    .map((action) => {
      const failover = action.failover as NonNullable<typeof action.failover>;
      return `<tr data-failover="${action.index}"><td>#${action.index + 1}</td><td>${escape(failover.datacenter)}</td><td>${escape(failover.servedByAtFault ?? '–')}</td><td>${ms(failover.failedOver?.afterMs)}${failover.failedOver ? ` (to ${escape(failover.failedOver.to)})` : ''}</td><td>${ms(failover.failedBack?.afterMs)}</td><td>${escape(failoverLine(failover))}</td></tr>`;
    });
  if (rows.length === 0) return '';
  return `<h2>Datacenter failover</h2>
<table id="datacenter-failover"><tr><th></th><th>datacenter taken out</th><th>served by when the fault began</th><th>time to fail over (after the fault's start)</th><th>time to fail back (after the undo)</th><th>in words</th></tr>
${rows.join('\n')}</table>
<p>From the client's served-by switches (its /stats <code>servedBy</code>): the first correct answer from another datacenter after the fault began, and the first from the faulted one again after the undo took effect.</p>
`;
}

export function renderReport(journal: Journal): string {
  const figures = faultFigures(journal);
  const verdict = badge(journal);
  const last = journal.samples.at(-1);
  const first = journal.samples[0];
  const proof = (index: number): { line: string; bad: boolean } => {
    const action = journal.actions.find((entry) => entry.index === index);
    return action ? { line: proofLine(action), bad: unprovenWhy(action) !== undefined } : { line: '', bad: false };
  };
  const rows = figures
    .map(
      (f) =>
        `<tr${proof(f.index).bad ? ' class="bad"' : ''}><td>#${f.index + 1}</td><td>${escape(f.description)}</td><td>${escape(f.outcome)}</td><td class="proof">${escape(proof(f.index).line)}</td><td>${f.failures}</td><td>${f.wrong}</td><td>${f.recovered}</td><td>${ms(f.detectedAfterMs)}</td><td>${ms(f.lastFailureAfterMs)}</td><td>${ms(f.replacementFirstCallAfterMs)}</td><td>${latency(f.latency)}</td><td>${escape(f.detail)}</td></tr>`,
    )
    .join('\n');
  type Spread = { p50: number; p99: number; count: number } | undefined;
  const spread = (value: Spread, unit: (n: number) => string = ms): string =>
    value === undefined ? '–' : `${unit(value.p50)} / ${unit(value.p99)} (${value.count})`;
  const kindRows = figuresByKind(journal)
    .map(
      (k) =>
        `<tr><td>${escape(k.kind)}</td><td>${spread(k.detect)}</td><td>${spread(k.recover)}</td><td>${spread(k.windowP99, (n) => `${n} ms`)}</td><td>${spread(k.recovered, String)}</td></tr>`,
    )
    .join('\n');
  const steady = steadyLatency(journal);
  const probes = journal.probes
    .map(
      (p) =>
        `<tr class="${p.ok ? 'ok' : 'bad'}"><td>${p.phase}</td><td>${p.probe}</td><td>${p.ok ? 'ok' : 'VIOLATED'}</td><td>${escape(p.value)}</td><td>${escape(p.expected)}</td></tr>`,
    )
    .join('\n');
  const rollbacks =
    journal.rollbacks.map((r) => `<li>${escape(r.description)}: ${escape(r.outcome)}</li>`).join('') || '<li>none needed</li>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(journal.scenario.title)} – chaos report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:20px;margin:0 0 4px}.verdict{display:inline-block;padding:4px 10px;border-radius:4px;color:#fff;font-weight:600}
.held{background:#2ca02c}.violated{background:#d62728}.unproven{background:#e6a700}.interrupted{background:#7f7f7f}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}
tr.bad td{background:#fde0e0}.legend{margin:4px 0 16px}.key{margin-right:12px;font-size:12px}.key i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
pre{background:#f6f6f6;padding:8px;font-size:12px;overflow:auto}
</style></head><body>
<h1>${escape(journal.scenario.title)}</h1>
<p>${escape(journal.scenario.description)}</p>
<p><span class="verdict ${verdict.colour}">${verdict.words}</span>${journal.verdictReason ? ` <span id="verdict-reason">${escape(journal.verdictReason)}</span>` : ''}<br>
 seed ${journal.seed} · ${escape(journal.scope)} · ${new Date(journal.startedAt).toISOString()} · ${ms(journal.endedAt - journal.startedAt)}
 · calls ok ${(last?.ok ?? 0) - (first?.ok ?? 0)}, failed ${(last?.failed ?? 0) - (first?.failed ?? 0)}, wrong ${(last?.wrong ?? 0) - (first?.wrong ?? 0)}</p>
<h2>Calls per second, per instance</h2>
${chart(journal)}
<h2>Faults</h2>
<table><tr><th></th><th>fault</th><th>outcome</th><th>read back once applied / undone</th><th>failures</th><th>wrong</th><th>recovered</th><th>out of the resolver's set (time to detect)</th><th>last failure (after fault start)</th><th>replacements' first call (time to recover)</th><th>latency p50 / p99 in its window</th><th>detail</th></tr>
${rows}</table>
<p>Times after the fault's start, read from the client's counters once a second. A fault's window runs from its start to the next fault's. Steady latency (before the first fault): <b id="steady-latency">${latency(steady)}</b>${steady ? ` over ${steady.calls} calls` : ''}.</p>
<table id="by-kind"><tr><th>fault kind</th><th>time to detect, p50 / p99 (faults)</th><th>time to recover, p50 / p99 (faults)</th><th>window p99 latency, p50 / p99 (faults)</th><th>calls recovered, p50 / p99 (faults)</th></tr>
${kindRows}</table>
${datacenterFailovers(journal)}<h2>Steady-state hypothesis</h2>
<table><tr><th>phase</th><th>probe</th><th>result</th><th>value</th><th>expected</th></tr>${probes}</table>
<h2>Rollbacks</h2><ul>${rollbacks}</ul>
<h2>Plan</h2><pre>${escape(journal.plan)}</pre>
</body></html>
`;
}
