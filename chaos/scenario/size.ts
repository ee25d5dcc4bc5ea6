import { z } from 'zod';

/** A memory size as a scenario writes it, in Docker's units ("48m", "512k", "1g"), read as bytes. */
const sizePattern = /^(\d+(?:\.\d+)?)([kmg])$/;
const UNIT = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 } as const;
/** Docker refuses a memory limit below 6 MiB. */
const SMALLEST = 6 * 2 ** 20;
const SAYS = 'a memory size of at least 6m (the smallest limit Docker takes), such as "48m"';

export const size = z
  .string({ error: SAYS })
  .regex(sizePattern, SAYS)
  .transform((value) => {
    const [, amount = '0', unit = 'm'] = sizePattern.exec(value) ?? [];
    return Math.round(Number(amount) * UNIT[unit as keyof typeof UNIT]);
  })
  .refine((bytes) => bytes >= SMALLEST, SAYS);
