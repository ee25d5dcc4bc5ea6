/**
 * Time to fail over and time to fail back, for a fault that takes out a
 * datacenter, read from the client's served-by switches (its /stats
 * `servedBy`: an entry each time correct answers came from another
 * datacenter than the ones before). The client is the judge: the failover is
 * when callers were answered from elsewhere, not when Consul or the resolver
 * saw the fault.
 */
export interface ServedBySwitch {
  readonly datacenter: string;
  /** Epoch ms of the first correct answer from `datacenter` after answers from another. */
  readonly at: number;
}

/** What the journal keeps of a datacenter fault, beside the fault. */
export interface DatacenterFailover {
  readonly datacenter: string;
  /** The fault was undone (a run interrupted or stopped before it has nothing to fail back after). */
  readonly undone: boolean;
  /** The datacenter that served the last correct answers before the fault began; absent when the client had said none. */
  readonly servedByAtFault?: string;
  /** The first switch away from `datacenter` after the fault began: where to, and how long after the fault's start. */
  readonly failedOver?: { readonly to: string; readonly afterMs: number };
  /** The first switch back to `datacenter` after the failover and the undo: how long after the undo took effect. */
  readonly failedBack?: { readonly afterMs: number };
}

/**
 * The switches a run has read so far and those of a new /stats reading, each
 * once, oldest first. The client keeps its latest hundred only; reading once
 * a second and keeping every one seen, the run loses none but to a flap of
 * a hundred switches within a second.
 */
export function mergeSwitches(seen: readonly ServedBySwitch[], read: readonly ServedBySwitch[]): ServedBySwitch[] {
  const known = new Set(seen.map(keyOf));
  return [...seen, ...read.filter((entry) => !known.has(keyOf(entry)))].sort((a, b) => a.at - b.at);
}

const keyOf = (entry: ServedBySwitch): string => `${entry.at}:${entry.datacenter}`;

/**
 * The figures of one fault of `datacenter` that began at `faultAt` and was
 * undone at `undoneAt` (undefined: never undone). A figure the switches do
 * not show stays absent: failoverLine says so in words.
 */
export function datacenterFailover(
  datacenter: string,
  faultAt: number,
  undoneAt: number | undefined,
  switches: readonly ServedBySwitch[],
): DatacenterFailover {
  const servedByAtFault = switches.findLast((entry) => entry.at <= faultAt)?.datacenter;
  const away = servedByAtFault === datacenter ? switches.find((entry) => entry.at > faultAt && entry.datacenter !== datacenter) : undefined;
  const back =
    away && undoneAt !== undefined
      ? switches.find((entry) => entry.at >= Math.max(undoneAt, away.at) && entry.datacenter === datacenter)
      : undefined;
  return {
    datacenter,
    undone: undoneAt !== undefined,
    ...(servedByAtFault !== undefined && { servedByAtFault }),
    ...(away && { failedOver: { to: away.datacenter, afterMs: away.at - faultAt } }),
    ...(back && undoneAt !== undefined && { failedBack: { afterMs: back.at - undoneAt } }),
  };
}

const seconds = (ms: number): string => `${(ms / 1_000).toFixed(1)} s`;

/** The figures in one line, saying what was not seen and why: the report's, the JUnit case's and the terminal's. */
export function failoverLine({ datacenter, undone, servedByAtFault, failedOver, failedBack }: DatacenterFailover): string {
  if (servedByAtFault === undefined)
    return `no failover measured: the client had not said which datacenter served it (no servedBy in its /stats)`;
  if (servedByAtFault !== datacenter)
    return `no failover measured: ${servedByAtFault}, not ${datacenter}, served the client when the fault began`;
  if (!failedOver) return `NO failover seen: no correct answer from another datacenter than ${datacenter} after the fault began`;
  const over = `failed over from ${datacenter} to ${failedOver.to} ${seconds(failedOver.afterMs)} after the fault began`;
  if (!undone) return `${over}; not undone: no failback to measure`;
  if (!failedBack) return `${over}; NO failback seen: no correct answer from ${datacenter} after the undo`;
  return `${over}; failed back to ${datacenter} ${seconds(failedBack.afterMs)} after the undo`;
}
