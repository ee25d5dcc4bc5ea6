/**
 * The logging surface the library needs: pino's (object first, then the
 * message), so a pino logger or child can be passed as is. Nothing is logged
 * unless the caller passes one.
 */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const ignore = (): void => undefined;
export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
