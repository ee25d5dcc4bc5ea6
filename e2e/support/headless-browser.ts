import assert from 'node:assert/strict';
import { type Browser, launch, type Page } from 'puppeteer-core';

/**
 * The machine's Chromium (CHROMIUM, from scripts/ensure-chromium.sh), driven
 * headless through puppeteer-core, which downloads no browser of its own.
 */
export async function openHeadless(url: string): Promise<{ page: Page; close: () => Promise<void> }> {
  const executablePath = process.env.CHROMIUM;
  assert.ok(executablePath, 'CHROMIUM is not set: run through make (scripts/ensure-chromium.sh provides it)');
  const browser: Browser = await launch({
    executablePath,
    headless: true,
    // As root in a container or VM, Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    return { page, close: () => browser.close() };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
