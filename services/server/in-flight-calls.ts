/**
 * Counts the calls a server is still answering, so a draining server sends
 * GOAWAY only when none is in flight. grpc-js clients that send keepalive
 * pings end every call still in flight on a connection that got GOAWAY (their
 * ping on the closing session fails: grpc-node #3068, measured here, 2 to 11
 * of 53 calls with 2.5 s handlers); and grpc-js's tryShutdown() reports done
 * while calls on a session the client already closed are still being answered.
 */
export class InFlightCalls {
  private count = 0;
  private arrivedCount = 0;
  private waiters: (() => void)[] = [];

  /** Wraps a unary handler so its calls are counted from arrival to answer. */
  track<Call, Callback extends (...args: never[]) => void>(
    handler: (call: Call, callback: Callback) => void,
  ): (call: Call, callback: Callback) => void {
    return (call, callback) => {
      this.count += 1;
      this.arrivedCount += 1;
      handler(call, ((...args: Parameters<Callback>) => {
        this.count -= 1;
        callback(...args);
        if (this.count === 0) for (const resolve of this.waiters.splice(0)) resolve();
      }) as Callback);
    };
  }

  get size(): number {
    return this.count;
  }

  /** Every call that ever arrived: the attempts a caller's retries and hedged copies cost this server. */
  get arrived(): number {
    return this.arrivedCount;
  }

  /** Resolves when no call is in flight. */
  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}
