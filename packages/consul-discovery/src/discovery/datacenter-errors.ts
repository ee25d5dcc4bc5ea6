import type { ConsulError } from '../consul/errors.js';
import type { Logger } from '../internal/logger.js';

/** Why a datacenter is not used, in a few words: "dc1: Consul unreachable". */
export function whyFailed(datacenter: string, error: ConsulError): string {
  if (/no path to datacenter/i.test(error.message))
    return `${datacenter}: Consul has no path to it (unknown, or its servers are unreachable)`;
  if (error.kind === 'unreachable') return `${datacenter}: Consul unreachable`;
  return `${datacenter}: ${error.message}`;
}

/**
 * A multi-datacenter target's failures, each told once: one line at warn
 * naming the datacenter (a datacenter Consul does not know is no error of
 * the target, since Consul may learn it, so this line is what says it), and
 * once to the caller, per datacenter and message, until that datacenter
 * answers again. A watch retrying with backoff would otherwise repeat it.
 */
export class DatacenterErrors {
  private readonly told = new Map<string, string>();

  constructor(
    private readonly target: string,
    private readonly logger: Logger,
    private readonly onError: (datacenter: string, error: ConsulError) => void,
  ) {}

  /** `inUse`: the datacenter the channel calls now, which the line names when it is another. */
  failed(datacenter: string, error: ConsulError, inUse: string | undefined): void {
    if (this.told.get(datacenter) === error.message) return;
    this.told.set(datacenter, error.message);
    this.logger.warn(
      { target: this.target, datacenter, err: error.message },
      `datacenter ${datacenter} of ${this.target} failed (${whyFailed(datacenter, error)}); ${
        inUse !== undefined && inUse !== datacenter ? `the channel keeps ${inUse}` : 'it counts as having no instance'
      }`,
    );
    this.onError(datacenter, error);
  }

  answered(datacenter: string): void {
    this.told.delete(datacenter);
  }

  clear(): void {
    this.told.clear();
  }
}
