import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The pinned versions and where each is written, the one place it may be:
 * versions.env (KEY=value lines; scripts/lib.sh sources it), and for each Go
 * tool its wrapper module's require line (tools/NAME/go.mod: the module its
 * `tool` directive names), which the Go build reads.
 */
export interface Pin {
  readonly name: string;
  readonly value: string;
  /** The file that owns it, relative to the project's root. */
  readonly owner: string;
}

export const VERSIONS_FILE = 'versions.env';

/** The KEY=value lines of versions.env (comments and blank lines aside). */
export function versionsFilePins(text: string): Pin[] {
  return text.split('\n').flatMap((line) => {
    const match = /^([A-Z][A-Z0-9_]*)=(\S+)$/.exec(line.trim());
    return match ? [{ name: match[1] as string, value: match[2] as string, owner: VERSIONS_FILE }] : [];
  });
}

/**
 * A wrapper module's pin: the version its go.mod requires of the module its
 * `tool` directive names (without the v). The tool may be a package inside
 * that module (github.com/Shopify/toxiproxy/v2/cmd/server): the pin is then
 * the module's, the longest required path the tool's path starts with.
 */
export function goToolPins(text: string, owner: string): Pin[] {
  const tools = [...text.matchAll(/^tool\s+(\S+)\s*$/gm)].map((match) => match[1] as string);
  const required = [...text.matchAll(/^\s*(?:require\s+)?(\S+)\s+v(\S+)/gm)].map((match) => ({
    module: match[1] as string,
    version: match[2] as string,
  }));
  return tools.map((tool) => {
    const owning = required
      .filter(({ module }) => tool === module || tool.startsWith(`${module}/`))
      .sort((a, b) => b.module.length - a.module.length)[0];
    if (!owning) throw new Error(`${owner} names the tool ${tool} but requires no version of it`);
    return { name: owning.module, value: owning.version, owner };
  });
}

/** Every pin: versions.env's and those of the given wrapper modules' go.mod files. */
export function pins(root: string, goModules: readonly string[]): Pin[] {
  return [
    ...versionsFilePins(readFileSync(join(root, VERSIONS_FILE), 'utf8')),
    ...goModules.flatMap((file) => goToolPins(readFileSync(join(root, file), 'utf8'), file)),
  ];
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The value as a word of its own, case aside: 9.8.7 is found in v9.8.7 and
 * in example/image:9.8.7, not in 19.8.7 or 9.8.70; plum in node:…-plum-slim,
 * not in plums.
 */
export function occurrence(value: string): RegExp {
  const before = /^[0-9]/.test(value) ? '(?<![0-9.])' : '(?<![A-Za-z0-9])';
  const after = /[0-9]$/.test(value) ? '(?![0-9]|\\.[0-9])' : '(?![A-Za-z0-9])';
  return new RegExp(`${before}${escape(value)}${after}`, 'i');
}

/** `path:line: NAME value (owner: FILE)` for each line of the texts that writes a pin again. */
export function strayCopies(all: readonly Pin[], texts: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [path, text] of texts) {
    text.split('\n').forEach((line, index) => {
      for (const pin of all) {
        if (occurrence(pin.value).test(line)) found.push(`${path}:${index + 1}: ${pin.name} ${pin.value} (owner: ${pin.owner})`);
      }
    });
  }
  return found;
}
