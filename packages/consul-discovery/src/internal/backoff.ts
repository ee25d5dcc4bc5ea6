/**
 * Capped exponential backoff with jitter, for every retry loop that talks to
 * Consul. Jitter spreads the retries of many processes that lost Consul at the
 * same moment, so they do not come back in lockstep.
 */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier?: number;
  /** Fraction of each delay that is randomised, 0..1. */
  readonly jitter?: number;
  readonly random?: () => number;
}

export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions) {}

  /** The delay before the next attempt; each call grows it up to the cap. */
  nextDelayMs(): number {
    const { initialMs, maxMs, multiplier = 2, jitter = 0.2, random = Math.random } = this.options;
    const base = Math.min(maxMs, initialMs * multiplier ** this.attempt);
    this.attempt += 1;
    const spread = base * jitter;
    return Math.max(0, Math.round(base - spread + random() * 2 * spread));
  }

  /** Called after a success: the next failure starts from the initial delay again. */
  reset(): void {
    this.attempt = 0;
  }
}
