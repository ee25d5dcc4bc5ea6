import { eventually } from './eventually.js';
import { HELLO_SERVICE_NAME } from '../contracts/hello.js';

/** Direct reads of Consul's HTTP API, for tests to check what Consul itself says. */
export interface CheckState {
  readonly CheckID: string;
  readonly Status: string;
  readonly Type: string;
  /** What the check last said; a gRPC check names what it asked ("gRPC check host:port/service: success"). */
  readonly Output: string;
}

export async function checksOf(consulAddress: string, instanceId: string): Promise<CheckState[]> {
  const response = await fetch(`http://${consulAddress}/v1/agent/checks?filter=${encodeURIComponent(`ServiceID == "${instanceId}"`)}`);
  return Object.values((await response.json()) as Record<string, CheckState>);
}

export async function passingIds(consulAddress: string, service = HELLO_SERVICE_NAME): Promise<string[]> {
  const response = await fetch(`http://${consulAddress}/v1/health/service/${service}?passing=true`);
  if (!response.ok) return [];
  return ((await response.json()) as { Service: { ID: string } }[]).map((entry) => entry.Service.ID).sort();
}

/**
 * How long a new instance took from passing Consul's checks to answering its
 * first call through `stats`' client (polled every 5 ms, so up to 5 ms late);
 * undefined when it never passed or was never called.
 */
export async function passingToFirstCallMs({
  consulAddress,
  instanceId,
  firstOkAt,
  timeoutMs = 15_000,
}: {
  readonly consulAddress: string;
  readonly instanceId: string;
  /** When the client's first OK answer from the instance came (epoch ms), if it came. */
  readonly firstOkAt: () => number | undefined;
  /** How long to wait for each of the two (default: 15 s). */
  readonly timeoutMs?: number;
}): Promise<number | undefined> {
  let passingAt = 0;
  await eventually(
    async () => {
      if ((await passingIds(consulAddress)).includes(instanceId)) passingAt = Date.now();
      return passingAt > 0;
    },
    timeoutMs,
    5,
  );
  await eventually(() => firstOkAt() !== undefined, timeoutMs, 5);
  const firstCall = firstOkAt();
  return firstCall === undefined || passingAt === 0 ? undefined : firstCall - passingAt;
}
