import { isolated } from '../internal/isolate.js';
import type { Logger } from '../internal/logger.js';

export interface Subscription {
  unsubscribe(): void;
  /**
   * Asks the shared watch to check at once that its source still answers
   * (a watch that cannot, does nothing). What the check finds is told to
   * every subscriber as any other event.
   */
  probe(): void;
}

/** One running watch: `stop` ends it (it tells nothing afterwards); `probe`, when it has one, checks its source at once. */
export interface RunningWatch {
  stop(): void;
  probe?(): void;
}

/** Starts one watch that tells its events to `tell`. */
export type StartWatch<Event> = (tell: (event: Event) => void) => RunningWatch;

export interface SubscribeOptions<Event> {
  /** Subscribers with equal keys share one watch. */
  readonly key: string;
  /** Called only when no watch has this key yet. */
  readonly start: StartWatch<Event>;
  readonly listener: (event: Event) => void;
  /** Where a listener that throws is reported (once), with these fields. */
  readonly logger: Logger;
  readonly fields: object;
}

/** One subscription: its own object, so the same function subscribed twice is two subscribers. */
interface Subscriber<Event> {
  readonly tell: (event: Event) => void;
}

interface SharedWatch<Event> {
  running: RunningWatch;
  readonly subscribers: Set<Subscriber<Event>>;
  lastGood: Event | undefined;
  lastOther: Event | undefined;
}

/**
 * One watch per key in a process, shared by every subscriber that asks for
 * it: a hundred channels watching the same thing cost Consul one blocking
 * query, not a hundred (many watchers on one agent raise its latency for
 * everyone). What is watched is the caller's: it names the watch by a key
 * (equal keys, one watch) and says how to start it. The pool keeps the rules
 * every shared watch follows:
 * - a subscriber that joins late is told, on the next tick (a resolver must
 *   never be answered synchronously), the last good event when there is one
 *   (a channel can work with it), else the last other one (an error);
 * - subscribers are told in isolation: one that throws is logged once and
 *   stops no other;
 * - a subscriber ended by another (a channel closed from its onEvent) hears
 *   nothing more, not even the event under way;
 * - the watch stops when its last subscriber leaves.
 */
export class SharedWatchPool<Event> {
  private readonly watches = new Map<string, SharedWatch<Event>>();

  constructor(
    /** How a throwing listener is named in the log, e.g. 'a Consul watch listener'. */
    private readonly listenerName: string,
    /** The events a late subscriber is told in preference to the others. */
    private readonly isGood: (event: Event) => boolean,
  ) {}

  /** Watches running now; each is one query loop against Consul. */
  get size(): number {
    return this.watches.size;
  }

  subscribe({ key, start, listener, logger, fields }: SubscribeOptions<Event>): Subscription {
    const subscriber: Subscriber<Event> = { tell: isolated(listener, logger, this.listenerName, fields) };
    const existing = this.watches.get(key);
    const shared = existing ?? this.open(key, start);
    const last = existing?.lastGood ?? existing?.lastOther;
    if (last !== undefined) {
      process.nextTick(() => {
        if (shared.subscribers.has(subscriber)) subscriber.tell(last);
      });
    }
    shared.subscribers.add(subscriber);
    return {
      unsubscribe: () => {
        if (!shared.subscribers.delete(subscriber) || shared.subscribers.size > 0) return;
        shared.running.stop();
        this.watches.delete(key);
      },
      probe: () => {
        if (shared.subscribers.has(subscriber)) shared.running.probe?.();
      },
    };
  }

  private open(key: string, start: StartWatch<Event>): SharedWatch<Event> {
    const shared: SharedWatch<Event> = {
      running: { stop: () => undefined },
      subscribers: new Set(),
      lastGood: undefined,
      lastOther: undefined,
    };
    shared.running = start((event) => this.deliver(shared, event));
    this.watches.set(key, shared);
    return shared;
  }

  private deliver(shared: SharedWatch<Event>, event: Event): void {
    if (this.isGood(event)) shared.lastGood = event;
    else shared.lastOther = event;
    for (const subscriber of [...shared.subscribers]) {
      // One subscriber may end another's subscription: from then on that one hears nothing, this event included.
      if (shared.subscribers.has(subscriber)) subscriber.tell(event);
    }
  }
}
