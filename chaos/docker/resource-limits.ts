/**
 * The CPU and memory limits cpu-starve and memory-pressure change with
 * `docker update` and set back: as Docker holds them (HostConfig), what to
 * ask of it, and how to say them.
 *
 * Docker ignores a zero in an update (moby container/container_unix.go,
 * UpdateContainer: a field is taken only when it is not 0), so a limit that
 * was never set cannot be unset again. And it refuses NanoCpus on a container
 * that has a CPU quota or period, and the reverse. So the CPU is starved
 * through the mechanism its undo can set back: NanoCpus when the container
 * already has them (--cpus), a CFS quota otherwise, whose "no limit" is -1.
 */
export interface Limits {
  readonly nanoCpus: number;
  readonly cpuQuota: number;
  readonly cpuPeriod: number;
  readonly memory: number;
  readonly memorySwap: number;
}

/** A `docker update` body (Engine API ContainerUpdate), only the fields these faults change. */
export interface LimitsUpdate {
  readonly NanoCpus?: number;
  readonly CpuQuota?: number;
  readonly CpuPeriod?: number;
  readonly Memory?: number;
  readonly MemorySwap?: number;
}

/** Docker's CFS period when it converts --cpus, in microseconds. */
const DEFAULT_CPU_PERIOD_US = 100_000;

/** The fraction of a core the container may use; undefined when it has no CPU limit. */
export function coresOf(limits: Limits): number | undefined {
  if (limits.nanoCpus > 0) return limits.nanoCpus / 1e9;
  if (limits.cpuQuota > 0) return limits.cpuQuota / (limits.cpuPeriod > 0 ? limits.cpuPeriod : DEFAULT_CPU_PERIOD_US);
  return undefined;
}

/** The update that limits the container to `cpus` of a core. */
export function starvedCpu(original: Limits, cpus: number): LimitsUpdate {
  if (original.nanoCpus > 0) return { NanoCpus: Math.round(cpus * 1e9) };
  const period = original.cpuPeriod > 0 ? original.cpuPeriod : DEFAULT_CPU_PERIOD_US;
  return { CpuPeriod: period, CpuQuota: Math.round(cpus * period) };
}

/** The update that gives the container its CPU limit back (its period, if starvedCpu set one, stays: harmless without a quota). */
export function restoredCpu(original: Limits): LimitsUpdate {
  if (original.nanoCpus > 0) return { NanoCpus: original.nanoCpus };
  return { CpuQuota: original.cpuQuota > 0 ? original.cpuQuota : -1 };
}

/** The same fraction of a core (to a billionth), or no limit on either. */
export function sameCores(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Math.abs(a - b) < 1e-9;
}

export function describeCpu(limits: Limits): string {
  const cores = coresOf(limits);
  const raw = `NanoCpus ${limits.nanoCpus}, CpuQuota ${limits.cpuQuota}, CpuPeriod ${limits.cpuPeriod}`;
  return `${cores === undefined ? 'no CPU limit' : `${+cores.toFixed(4)} of a core`} (${raw})`;
}

/** Bytes as MiB, to a tenth: "48 MiB", "37.2 MiB". */
export const mib = (bytes: number): string => `${+(bytes / 2 ** 20).toFixed(1)} MiB`;

export function describeMemory(limits: Limits): string {
  const swap = limits.memorySwap > 0 ? mib(limits.memorySwap) : String(limits.memorySwap);
  return `memory ${limits.memory > 0 ? mib(limits.memory) : 'unlimited'}, with swap ${swap}`;
}
