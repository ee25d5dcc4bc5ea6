import { z } from 'zod';

/** A duration as a scenario writes it ("500ms", "5s" or "1m"), read as milliseconds. */
const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m)$/;
const A_DURATION = 'a duration such as "500ms", "5s" or "1m"';
// The same words for a bare number (YAML reads `duration: 15` as one): a unit is what is missing.
export const duration = z
  .string({ error: A_DURATION })
  .regex(durationPattern, A_DURATION)
  .transform((value) => {
    const [, amount = '0', unit = 's'] = durationPattern.exec(value) ?? [];
    return Math.round(Number(amount) * ({ ms: 1, s: 1_000, m: 60_000 }[unit] ?? 1_000));
  });
