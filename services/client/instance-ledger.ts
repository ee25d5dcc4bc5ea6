import { instanceIdOf } from '@grpc-consul-lab/consul-discovery';

/**
 * The client's figures per instance (calls answered, first and last correct
 * answer), kept while an instance is resolved or answering and for a while
 * after it is gone, then folded into totals: a client that outlives many
 * instance replacements must not keep a key for every instance it ever saw
 * (the issue measured 3 -> 35 keys and +2.8 MiB over 60 replacements).
 */
export interface InstanceRetention {
  /** An instance neither resolved nor answering for longer than this is forgotten. */
  readonly goneForMs: number;
  /** At most this many gone instances are kept, the most recently seen; older ones are forgotten sooner. */
  readonly maxGone: number;
}

/**
 * Ten minutes covers a chaos scenario or a soak window that reads a replaced
 * instance's first call after the fact; a hundred gone instances cost a few
 * kilobytes and bound the memory however fast instances are replaced.
 */
export const DEFAULT_INSTANCE_RETENTION: InstanceRetention = { goneForMs: 10 * 60_000, maxGone: 100 };

export interface InstanceCounts {
  ok: number;
  recovered: number;
  wrong: number;
  firstOkAt: number | undefined;
  lastOkAt: number | undefined;
  /** The last time it was resolved or answered (epoch ms). */
  lastSeenAt: number;
}

/** What was folded into totals: how many instances, and the correct answers they had given. */
export interface Forgotten {
  readonly instances: number;
  readonly ok: number;
}

export class InstanceLedger {
  private readonly counts = new Map<string, InstanceCounts>();
  /** Instance ids (not keys) in the resolver's current set: never forgotten. */
  private resolved = new Set<string>();
  /**
   * The datacenter of each instance, by id, as the resolver last said it:
   * kept while the instance is resolved or its figures are, so an answer
   * from an instance just dropped from the set still counts for its datacenter.
   */
  private readonly datacenters = new Map<string, string>();
  private forgotten: Forgotten = { instances: 0, ok: 0 };

  constructor(
    private readonly retention: InstanceRetention,
    /** Told each instance as it is forgotten, with its last counts (to drop its metric series). */
    private readonly onForget: (instance: string, counts: Readonly<InstanceCounts>) => void,
  ) {}

  /** The entry of an instance that answered now, made when it is new. */
  answered(instance: string, at: number): InstanceCounts {
    let entry = this.counts.get(instance);
    if (!entry) {
      entry = { ok: 0, recovered: 0, wrong: 0, firstOkAt: undefined, lastOkAt: undefined, lastSeenAt: at };
      this.counts.set(instance, entry);
    }
    entry.lastSeenAt = at;
    return entry;
  }

  /**
   * The resolver's set, as instance keys (`id@address:port`), with the
   * datacenter of those it said one for (by id). Instances that left it start
   * their time as gone now.
   */
  setResolved(keys: readonly string[], at: number, datacenters: ReadonlyMap<string, string> = new Map()): void {
    for (const [id, datacenter] of datacenters) this.datacenters.set(id, datacenter);
    const next = new Set(keys.map(instanceIdOf));
    for (const id of this.resolved) {
      const entry = this.counts.get(id);
      if (entry && !next.has(id)) entry.lastSeenAt = at;
    }
    this.resolved = next;
    this.forgetGone(at);
  }

  /** Folds gone instances past the retention into the totals. */
  forgetGone(at: number): void {
    const gone = [...this.counts].filter(([id]) => !this.resolved.has(id)).sort(([, a], [, b]) => b.lastSeenAt - a.lastSeenAt);
    gone.forEach(([id, entry], rank) => {
      if (rank >= this.retention.maxGone || at - entry.lastSeenAt > this.retention.goneForMs) this.forget(id, entry);
    });
    // An instance resolved once and never answering has no figures to keep its datacenter for.
    for (const id of this.datacenters.keys()) if (!this.resolved.has(id) && !this.counts.has(id)) this.datacenters.delete(id);
  }

  /** The instance's datacenter, when the resolver said one. */
  datacenterOf(id: string): string | undefined {
    return this.datacenters.get(id);
  }

  /** Every datacenter known, by instance id. */
  get datacenterByInstance(): ReadonlyMap<string, string> {
    return this.datacenters;
  }

  get entries(): ReadonlyMap<string, Readonly<InstanceCounts>> {
    return this.counts;
  }

  get totalsForgotten(): Forgotten {
    return this.forgotten;
  }

  private forget(id: string, entry: InstanceCounts): void {
    this.counts.delete(id);
    this.forgotten = { instances: this.forgotten.instances + 1, ok: this.forgotten.ok + entry.ok };
    this.onForget(id, entry);
  }
}
