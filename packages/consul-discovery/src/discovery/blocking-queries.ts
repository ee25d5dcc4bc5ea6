import { ConsulError } from '../consul/errors.js';
import { Backoff } from '../internal/backoff.js';
import { sleep } from '../internal/sleep.js';

/**
 * The query loop of every Consul watch, by Consul's rules for blocking
 * queries: the first query does not block; an index that goes backwards
 * starts over from 0; an index is never sent below 1; a floor between
 * queries, because an answer does not mean that anything changed. A failed
 * query is reported and retried with jittered backoff, from index 0: Consul
 * may have restarted with a lower index, and the next answer should come at
 * once instead of after the wait. What an answer means (and which to tell)
 * is the watch's own.
 */
export interface BlockingQueries<Answer extends { readonly index: number }> {
  /** Sends one query: blocking on `index`, or, undefined, answered at once. */
  readonly ask: (index: number | undefined) => Promise<Answer>;
  /**
   * An answer. `wentBack`: its index is below the last one (Consul may have
   * lost its state). Returns a delay when the next query must not block
   * (asked again after that delay), else nothing.
   */
  readonly answered: (answer: Answer, wentBack: boolean) => { readonly askAgainInMs: number } | undefined;
  /** A failed query, retried after `retryInMs`. */
  readonly failed: (error: ConsulError, retryInMs: number) => void;
  /** False: poll mode, each query answered at once, never an index. */
  readonly blocking: boolean;
  /** Least time from one query to the next, whatever Consul answers. */
  readonly floorMs: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  /** Ends the loop, and the query in flight with it (`ask` should pass it on); nothing is reported afterwards. */
  readonly signal: AbortSignal;
}

export async function runBlockingQueries<Answer extends { readonly index: number }>(loop: BlockingQueries<Answer>): Promise<void> {
  const { signal } = loop;
  const backoff = new Backoff({ ...loop.backoff, jitter: 0.3 });
  let index = 0;
  while (!signal.aborted) {
    const startedAt = Date.now();
    try {
      const answer = await loop.ask(index > 0 ? index : undefined);
      if (signal.aborted) return;
      backoff.reset();
      const wentBack = answer.index < index;
      if (loop.blocking) index = wentBack ? 0 : Math.max(1, answer.index);
      const again = loop.answered(answer, wentBack);
      if (again !== undefined) {
        index = 0;
        await sleep(again.askAgainInMs, signal);
      }
      const pause = loop.floorMs - (Date.now() - startedAt);
      if (pause > 0) await sleep(pause, signal);
    } catch (error) {
      if (signal.aborted) return;
      index = 0;
      const delayMs = backoff.nextDelayMs();
      loop.failed(error instanceof ConsulError ? error : new ConsulError('bad-response', String(error)), delayMs);
      await sleep(delayMs, signal);
    }
  }
}
