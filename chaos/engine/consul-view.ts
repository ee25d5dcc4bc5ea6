/**
 * What Consul says about the instances, for the runner's messages: when an
 * instance is silent, the address Consul has for it is usually the cause.
 */
export interface Registration {
  readonly address: string;
  readonly port: number;
  /** The worst of its checks: passing, warning or critical. */
  readonly status: string;
}

interface HealthEntry {
  readonly Service: { readonly ID: string; readonly Address: string; readonly Port: number };
  readonly Checks: readonly { readonly Status: string }[];
}

const RANK = ['passing', 'warning', 'critical'];

/** Every registration of `service`, passing or not, by instance id; empty when Consul does not answer. */
export async function registrationsOf(consulUrl: string, service: string): Promise<Map<string, Registration[]>> {
  const byId = new Map<string, Registration[]>();
  try {
    const response = await fetch(`${consulUrl.replace(/\/$/, '')}/v1/health/service/${encodeURIComponent(service)}`, {
      signal: AbortSignal.timeout(3_000),
    });
    if (!response.ok) return byId;
    for (const entry of (await response.json()) as HealthEntry[]) {
      const status = entry.Checks.map((check) => check.Status).reduce(
        (worst, next) => (RANK.indexOf(next) > RANK.indexOf(worst) ? next : worst),
        'passing',
      );
      const registration = { address: entry.Service.Address, port: entry.Service.Port, status };
      byId.set(entry.Service.ID, [...(byId.get(entry.Service.ID) ?? []), registration]);
    }
  } catch {
    // The message then says Consul could not be asked; the verdict does not depend on it.
  }
  return byId;
}
