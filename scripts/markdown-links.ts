import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The relative links of the project's Markdown, checked as GitHub would
 * follow them: `[text](path)`, `[text](path#anchor)`, `[text](#anchor)` and
 * reference definitions (`[name]: path`). Links with a scheme (https:,
 * mailto:) are not followed. Code blocks and `code spans` are skipped.
 *
 * Heading anchors follow GitHub's slug rule, kept simple: the heading's text
 * (a link in it counts as its text), lower-cased, every character that is not
 * a letter, a digit, a space, '-' or '_' dropped, each space made '-'; a
 * repeated heading gets '-1', '-2', ... in order.
 */
export interface Problem {
  /** `path:line`, the path relative to the project root. */
  readonly where: string;
  readonly link: string;
  readonly why: string;
}

const FENCE = /^\s*(```|~~~)/;
const INLINE_LINK = /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
const REFERENCE_DEFINITION = /^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/;
const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/** Each line of a Markdown text outside code blocks, code spans blanked, with its 1-based number. */
function proseLines(text: string): { readonly line: string; readonly number: number }[] {
  const lines: { line: string; number: number }[] = [];
  let inFence = false;
  text.split('\n').forEach((line, index) => {
    if (FENCE.test(line)) {
      inFence = !inFence;
      return;
    }
    if (!inFence) lines.push({ line: line.replace(/`[^`]*`/g, (span) => ' '.repeat(span.length)), number: index + 1 });
  });
  return lines;
}

export function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** Every heading anchor of a Markdown text (ATX headings: `#` to `######`). */
export function anchors(text: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  let inFence = false;
  for (const line of text.split('\n')) {
    if (FENCE.test(line)) inFence = !inFence;
    const heading = inFence ? null : /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1] ?? '');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  }
  return found;
}

/** The broken relative links of the given Markdown files (paths relative to root). */
export function brokenLinks(root: string, files: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  const anchorsOf = new Map<string, Set<string>>();
  const anchorsIn = (file: string): Set<string> => {
    let set = anchorsOf.get(file);
    if (!set) {
      set = anchors(readFileSync(file, 'utf8'));
      anchorsOf.set(file, set);
    }
    return set;
  };

  for (const file of files) {
    const path = join(root, file);
    for (const { line, number } of proseLines(readFileSync(path, 'utf8'))) {
      const targets = [...line.matchAll(INLINE_LINK)].map((match) => match[1] ?? '');
      const definition = REFERENCE_DEFINITION.exec(line)?.[1];
      if (definition) targets.push(definition);
      for (const link of targets) {
        if (SCHEME.test(link)) continue;
        const why = whyBroken(root, path, link, anchorsIn);
        if (why) problems.push({ where: `${file}:${number}`, link, why });
      }
    }
  }
  return problems;
}

function whyBroken(root: string, from: string, link: string, anchorsIn: (file: string) => Set<string>): string | null {
  const hash = link.indexOf('#');
  const pathPart = decodeURIComponent(hash === -1 ? link : link.slice(0, hash));
  const anchor = hash === -1 ? null : decodeURIComponent(link.slice(hash + 1));
  // GitHub reads a leading '/' as the repository's root.
  const target = pathPart === '' ? from : pathPart.startsWith('/') ? join(root, pathPart) : resolve(dirname(from), pathPart);
  if (!existsSync(target)) return `${relative(root, target) || '.'} does not exist`;
  if (anchor === null || anchor === '' || !target.endsWith('.md')) return null;
  return anchorsIn(target).has(anchor) ? null : `${relative(root, target)} has no heading #${anchor}`;
}

/** Lines longer than max characters (code points), as `path:line` with the length. */
export function longLines(root: string, files: readonly string[], max: number): string[] {
  const long: string[] = [];
  for (const file of files) {
    readFileSync(join(root, file), 'utf8')
      .split('\n')
      .forEach((line, index) => {
        const length = [...line].length;
        if (length > max) long.push(`${file}:${index + 1}: ${length} characters`);
      });
  }
  return long;
}
