import { z } from 'zod';

/** A duration as a scenario writes it ("500ms", "5s" or "1m"), read as milliseconds. */
const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m)$/;
export const duration = z
  .string()
  .regex(durationPattern, 'a duration such as "500ms", "5s" or "1m"')
  .transform((value) => {
    const [, amount = '0', unit = 's'] = durationPattern.exec(value) ?? [];
    return Math.round(Number(amount) * ({ ms: 1, s: 1_000, m: 60_000 }[unit] ?? 1_000));
  });
