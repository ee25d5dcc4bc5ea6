import { pino } from 'pino';
import type { CallStats } from '../client/call-stats.js';
import { createHelloClient, type HelloClientOptions } from '../client/hello-client.js';

/**
 * The real client (the one factory the program uses: resolver, round_robin,
 * retries, call loop, verification, counters) running inside the test
 * process, so tests read its counters directly.
 */
export interface InProcessClient {
  readonly stats: CallStats;
  stop(): Promise<void>;
}

export function startClient(
  consulAddress: string,
  ratePerSecond: number,
  target = 'consul:///HelloService',
  keepalive = true,
  more: Partial<HelloClientOptions> = {},
): InProcessClient {
  const hello = createHelloClient({
    target,
    consul: { address: consulAddress, env: {} },
    ratePerSecond,
    namePrefix: 'test',
    logger: pino({ level: 'silent' }),
    ...(!keepalive && { keepalive: { timeMs: 0, timeoutMs: 0 } }),
    ...more,
  });
  hello.start();
  return hello;
}
