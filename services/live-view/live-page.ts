import { readFileSync } from 'node:fs';

/**
 * The live view's page: live.html, live.css and live.js (compiled from
 * page/live.ts), served from the same feed as its events so that nothing
 * comes from elsewhere: it must work offline and on a locked-down machine.
 * `npm run build` leaves the three in page/ beside this module's compiled
 * form (dist/services/live-view/page/, which the images copy with the rest
 * of dist/services).
 */
export interface PageFile {
  readonly contentType: string;
  readonly body: Buffer;
}

const PAGE_DIR = new URL('./page/', import.meta.url);

/** Each file and the URL paths it answers; live.html refers to the others relative to itself. */
const FILES = [
  { name: 'live.html', contentType: 'text/html; charset=utf-8', paths: ['/', '/live'] },
  { name: 'live.css', contentType: 'text/css; charset=utf-8', paths: ['/live.css'] },
  // A module script: browsers refuse one served without a JavaScript type.
  { name: 'live.js', contentType: 'text/javascript; charset=utf-8', paths: ['/live.js'] },
] as const;

/**
 * Reads the page's files, by the URL path that serves each. Read once, when
 * the feed's module loads, so a missing file stops the process at start-up
 * with its path rather than failing each request later.
 */
export function loadLivePage(dir: URL = PAGE_DIR): ReadonlyMap<string, PageFile> {
  const byPath = new Map<string, PageFile>();
  for (const { name, contentType, paths } of FILES) {
    let body: Buffer;
    try {
      body = readFileSync(new URL(name, dir));
    } catch (error) {
      throw new Error(`the live view's ${name} cannot be read (npm run build puts it there): ${(error as Error).message}`, {
        cause: error,
      });
    }
    for (const path of paths) byPath.set(path, { contentType, body });
  }
  return byPath;
}
