import { z } from 'zod';

/**
 * A gray fault: the instance stays up, passes its checks (but for
 * `unhealthy`), and answers badly. The chaos runner (and the e2e suite)
 * write one as JSON under FAULT_KEY_PREFIX + instance id in Consul's KV; the
 * instance watches its key with a blocking query and applies it to every
 * call until the key goes. Consul carries it, so no new port into the
 * containers is needed, and ACLs say who may set one (consul/policies/).
 */
export const FAULT_KEY_PREFIX = 'grpc-consul-lab/faults/';

export const grayFaultSchema = z.discriminatedUnion('kind', [
  /** Every answer is late by delayMs, give or take jitterMs. */
  z
    .object({
      kind: z.literal('slow'),
      delayMs: z.number().int().min(0).max(60_000),
      jitterMs: z.number().int().min(0).max(60_000).default(0),
    })
    .strict(),
  /** A `ratio` of calls answered with `code` instead of the greeting. */
  z
    .object({ kind: z.literal('flaky'), ratio: z.number().min(0).max(1), code: z.enum(['UNAVAILABLE', 'INTERNAL']).default('UNAVAILABLE') })
    .strict(),
  /** Every answer carries a wrong sum: the client must count it wrong, never ok. */
  z.object({ kind: z.literal('corrupt') }).strict(),
  /** Health NOT_SERVING (so Consul's check fails) while calls are still answered. */
  z.object({ kind: z.literal('unhealthy') }).strict(),
]);

export type GrayFault = z.output<typeof grayFaultSchema>;
export type GrayFaultKind = GrayFault['kind'];

export const faultKey = (instanceId: string): string => `${FAULT_KEY_PREFIX}${instanceId}`;

/** The fault a key's value describes, or an Error naming what is wrong with it. */
export function parseGrayFault(value: string): GrayFault | Error {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return new Error(`not JSON: ${value.slice(0, 80)}`);
  }
  const parsed = grayFaultSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return new Error(`${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'}`);
}

export function describeGrayFault(fault: GrayFault): string {
  switch (fault.kind) {
    case 'slow':
      return `slow: +${fault.delayMs} ms${fault.jitterMs > 0 ? ` ± ${fault.jitterMs} ms` : ''}`;
    case 'flaky':
      return `flaky: ${Math.round(fault.ratio * 100)} % of calls answered ${fault.code}`;
    case 'corrupt':
      return 'corrupt: wrong sums';
    case 'unhealthy':
      return 'unhealthy: health NOT_SERVING, calls still answered';
  }
}
