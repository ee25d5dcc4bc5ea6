import type { Logger } from '../../src/index.js';

export interface LoggedLine {
  readonly level: string;
  readonly message: string;
  readonly fields: object;
}

/** A logger that keeps every line, to count what was said. */
export function recordingLogger(): Logger & { lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const at = (level: string) => (fields: object, message: string) => {
    lines.push({ level, message, fields });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
