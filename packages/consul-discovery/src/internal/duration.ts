/** "500ms", "2s", "1.5m" or a bare number of milliseconds, as Consul's own options are written. */
export function parseDurationMs(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) return undefined;
  const factor = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] ?? 'ms'] ?? 1;
  return Math.round(Number(match[1]) * factor);
}

/** Consul's duration syntax: whole milliseconds. */
export const consulDuration = (ms: number): string => `${Math.round(ms)}ms`;
