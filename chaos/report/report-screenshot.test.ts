import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodePng } from '../test-support/png.js';
import { sampleJournal } from '../test-support/sample-journal.js';
import { renderReport } from './html-report.js';

/** The report as a reader sees it, drawn by a real browser: apart from report.test.ts because it needs Chromium (make unit). */
test('headless Chromium draws the chart: calls, failures in red and the shaded fault window are on the screenshot', () => {
  const chromium = process.env.CHROMIUM;
  assert.ok(chromium, 'CHROMIUM is not set: run through make (scripts/ensure-chromium.sh provides it)');
  const dir = mkdtempSync(join(tmpdir(), 'chaos-report-'));
  try {
    writeFileSync(join(dir, 'report.html'), renderReport(sampleJournal()));
    execFileSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${join(dir, 'profile')}`,
        '--window-size=1100,700',
        `--screenshot=${join(dir, 'shot.png')}`,
        `file://${join(dir, 'report.html')}`,
      ],
      { stdio: 'ignore', timeout: 60_000 },
    );
    const image = decodePng(readFileSync(join(dir, 'shot.png')));
    const counts = { blue: 0, red: 0, shade: 0 };
    for (let y = 0; y < image.height; y += 1) {
      for (let x = 0; x < image.width; x += 1) {
        const [r, g, b] = image.pixel(x, y);
        if (r === 0x1f && g === 0x77 && b === 0xb4) counts.blue += 1;
        if (r === 0xd6 && g === 0x27 && b === 0x28) counts.red += 1;
        if (r > 240 && g > 210 && g < 235 && b > 180 && b < 215) counts.shade += 1;
      }
    }
    assert.ok(counts.blue > 2_000, `the first instance's bars are drawn: ${JSON.stringify(counts)}`);
    assert.ok(counts.red > 20, `the failures are drawn in red: ${JSON.stringify(counts)}`);
    assert.ok(counts.shade > 200, `the fault window is shaded: ${JSON.stringify(counts)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
