import { type Logger, pino } from 'pino';

/**
 * The one logger of a program, made at its entry point and passed down;
 * modules add context with `logger.child({...})`.
 */
export function createLogger(name: string, level: string): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}

export type { Logger };
