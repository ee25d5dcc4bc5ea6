import { pino } from 'pino';
import type { CallStats } from './call-stats.js';
import { createHelloClient, type HelloClientOptions } from './hello-client.js';

/**
 * The real client (the one factory the program uses: resolver, round_robin,
 * retries, call loop, verification, counters) running inside the test
 * process, so tests read its counters directly.
 */
export interface InProcessClient {
  readonly stats: CallStats;
  stop(): Promise<void>;
}

export interface InProcessClientOptions {
  readonly consulAddress: string;
  readonly ratePerSecond: number;
  /** The gRPC target (default: consul:///HelloService). */
  readonly target?: string;
  /** HTTP/2 pings as the program sends them (default: on); false: none. */
  readonly keepalive?: boolean;
  /** Any other of the client's options: TLS credentials, call policy… */
  readonly more?: Partial<HelloClientOptions>;
}

export function startClient({
  consulAddress,
  ratePerSecond,
  target = 'consul:///HelloService',
  keepalive = true,
  more = {},
}: InProcessClientOptions): InProcessClient {
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
