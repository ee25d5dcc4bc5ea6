import type { Logger } from 'pino';
import type { LiveFeed } from '../live-view/live-feed.js';
import type { CallStats } from './call-stats.js';

/** Once a second, the counters: to the live view, and as one log line. clearInterval() on the timer stops it. */
export function logSummaries({
  stats,
  live,
  logger,
}: {
  readonly stats: CallStats;
  readonly live: LiveFeed;
  readonly logger: Logger;
}): NodeJS.Timeout {
  return setInterval(() => {
    const s = stats.snapshot();
    live.push(s);
    logger.info(
      {
        ok: s.ok,
        failed: s.failed,
        wrong: s.wrong,
        recovered: s.recovered,
        byInstance: s.byInstance,
        failedByCode: s.failedByCode,
        p50: s.latencyMs.p50,
        p99: s.latencyMs.p99,
      },
      `ok=${s.ok} failed=${s.failed} wrong=${s.wrong} by-instance=${JSON.stringify(s.byInstance)}`,
    );
  }, 1_000);
}
