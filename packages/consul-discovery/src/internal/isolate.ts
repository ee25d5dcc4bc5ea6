import type { Logger } from './logger.js';

/**
 * A caller's callback as the library calls it: whatever it throws (or, made
 * async, rejects with) stays its own. Caught, it cannot stop the callbacks
 * told after it, break the loop that told it, or crash the process; it is
 * logged the first time only, since a callback that fails usually fails on
 * every call and would otherwise flood the log.
 */
export function isolated<A extends unknown[]>(
  callback: (...args: A) => unknown,
  logger: Logger,
  what: string,
  fields: object = {},
): (...args: A) => void {
  let logged = false;
  const failed = (error: unknown): void => {
    if (logged) return;
    logged = true;
    logger.error(
      { ...fields, err: error instanceof Error ? error.message : String(error) },
      `${what} threw; caught (the others are told as before), and not logged again`,
    );
  };
  return (...args) => {
    try {
      const result = callback(...args);
      // An async function is a valid `() => void`: its rejection would otherwise be unhandled.
      if (result instanceof Promise) result.catch(failed);
    } catch (error) {
      failed(error);
    }
  };
}
