import { setTimeout as delay } from 'node:timers/promises';

/**
 * Time as a poll sees it. Polls take one so that a test can drive them on a
 * clock of its own instead of waiting (see poll.test.ts); everything else
 * uses systemClock.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms) => {
    await delay(Math.max(0, ms));
  },
};

export interface PollOptions {
  /** How long to keep asking; the probe is asked at least once, also with 0. */
  readonly timeoutMs: number;
  /** The pause between two answers that were not yet it. */
  readonly everyMs: number;
  readonly clock?: Clock;
}

/**
 * Asks `probe` until it answers something other than undefined, and returns
 * that answer; or undefined once `timeoutMs` has passed. The one deadline
 * loop of the programs, the chaos runner and the tests (testing's
 * `eventually` is this with a yes/no probe). A probe that throws ends the
 * poll with its error: whether a failure means "not yet" is the caller's to
 * say, inside its probe.
 */
export async function pollUntil<T>(probe: () => Promise<T | undefined> | T | undefined, options: PollOptions): Promise<T | undefined> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.timeoutMs;
  for (;;) {
    const answer = await probe();
    if (answer !== undefined) return answer;
    if (clock.now() >= deadline) return undefined;
    await clock.sleep(Math.min(options.everyMs, Math.max(0, deadline - clock.now())));
  }
}
