import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

/**
 * The one logger of a program, made at its entry point and passed down;
 * modules add context with `logger.child({...})`.
 *
 * `pretty` (the default): one readable line per event, local time, level,
 * program, message, then the event's fields, as `docker compose logs` and a
 * terminal show them. `json`: pino's JSON lines, for a log shipper or a
 * program that reads them (LOG_FORMAT=json). pino-pretty runs in-process as a
 * synchronous stream: no worker thread, nothing lost when the program exits.
 */
export type LogFormat = 'pretty' | 'json';

export function createLogger(name: string, level: string, format: LogFormat = 'pretty'): Logger {
  if (format === 'json') return pino({ name, level, base: { pid: process.pid } });
  return pino(
    { name, level, base: undefined },
    pretty({
      sync: true,
      colorize: Boolean(process.stdout.isTTY),
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      singleLine: true,
    }),
  );
}

export type { Logger };
