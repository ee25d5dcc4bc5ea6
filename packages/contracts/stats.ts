import { z } from 'zod';

/**
 * The client's /stats document: everything it knows about its calls. The
 * client writes it (services/client/call-stats.ts); the chaos runner, the
 * live view, the e2e tests and the benches read it, through fetchStats,
 * which checks it against this schema, so a reader never works on a shape
 * the client does not send.
 */
const count = z.number().int().min(0);
const epochMs = z.number();
const happening = { at: z.string(), code: z.string(), details: z.string() };
const outcomes = z.object({ ok: count, failed: count, wrong: count });

/** How many switches of served-by the client keeps, the latest: a reader a second behind loses none but to a flap of 100 a second. */
export const SERVED_BY_KEPT = 100;

export const statsSchema = z.object({
  ok: count,
  failed: count,
  wrong: count,
  total: count,
  failedByCode: z.record(z.string(), count),
  /** Calls cut after an instance's headers, answered correctly on a second try (see the client's CallLoop). */
  recovered: count,
  /**
   * Correct answers per instance id, for the instances resolved now or seen
   * (resolved or answering) in the last 10 minutes, at most 100 gone ones
   * (the client's InstanceRetention); an instance gone longer is folded into
   * `forgotten`. Sum ok, not these, for totals.
   */
  byInstance: z.record(z.string(), count),
  /** When each instance of byInstance first and last answered correctly (epoch ms). */
  firstOkAtByInstance: z.record(z.string(), epochMs),
  lastOkAtByInstance: z.record(z.string(), epochMs),
  /** Instances dropped from the per-instance figures, and the correct answers they gave: byInstance's sum + forgotten.ok = ok. */
  forgotten: z.object({ instances: count, ok: count }),
  /** The resolver's set, as instance keys (`id@address:port`, the discovery library's instanceKey). */
  resolvedInstances: z.array(z.string()),
  /**
   * The datacenter of each instance the client knows one for (as Consul
   * answered it: the node's), by instance id: those resolved now and those
   * of byInstance. Defaults keep a client older than this field readable.
   */
  datacenterByInstance: z.record(z.string(), z.string()).default({}),
  /**
   * Calls by the datacenter of the instance that answered them. A failed call
   * counts only when its instance is known (it failed after an instance
   * answered its headers): the others belong to no datacenter, so `failed`
   * here may sum to less than the total.
   */
  byDatacenter: z.record(z.string(), outcomes).default({}),
  /**
   * Which datacenter served correct answers, oldest first: an entry each time
   * a correct answer came from another datacenter than the one before it (the
   * first entry: the first datacenter to answer). The last SERVED_BY_KEPT;
   * failover and failback are read from it (chaos/engine/datacenter-switches.ts).
   */
  servedBy: z.array(z.object({ datacenter: z.string(), at: epochMs })).default([]),
  resolverErrors: count,
  latencyMs: z.object({ p50: z.number(), p99: z.number(), max: z.number() }),
  /** Every call's latency since the start, bucketed (latency-histogram.ts); two readings give any window's quantiles. */
  latencyCounts: z.record(z.string(), count),
  startedAt: z.string(),
  uptimeMs: z.number(),
  lastFailure: z.object(happening).optional(),
  lastWrong: z.object({ at: z.string(), reason: z.string() }).optional(),
  lastRecovered: z.object(happening).optional(),
});

export type StatsSnapshot = Readonly<z.output<typeof statsSchema>>;

/** A /stats body as the schema reads it, or an Error naming the first field that is wrong. */
export function parseStats(json: unknown): StatsSnapshot | Error {
  const parsed = statsSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return new Error(`the client's /stats: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
}

/** GET <baseUrl>/stats, checked against the schema; throws naming what went wrong (no answer, HTTP status, a bad field). */
export async function fetchStats(baseUrl: string, timeoutMs = 3_000): Promise<StatsSnapshot> {
  const url = `${baseUrl.replace(/\/$/, '')}/stats`;
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`GET ${url} answered HTTP ${response.status}`);
  const stats = parseStats(await response.json());
  if (stats instanceof Error) throw stats;
  return stats;
}
