import { z } from 'zod';
import { duration } from '../scenario/duration.js';

/** Fields that steps of several kinds share, so each reads and defaults the same in every kind. */

/** Which hello instance a step hits: chosen from the live ones with the seed. */
export const target = z.enum(['random', 'oldest', 'newest']).default('random');
export type TargetPolicy = z.output<typeof target>;

/** When a step runs: every kind has these. */
export const timing = {
  /** First run, from the start of the method. */
  at: duration.prefault('0s'),
  /** Repeat period; with `times`. */
  every: duration.optional(),
  times: z.number().int().min(1).max(1_000).default(1),
  /** Each run moves by a seeded random amount in [-jitter, +jitter]. */
  jitter: duration.prefault('0s'),
};

/** The datacenter a step takes out whole (PROFILE=multi-dc), as its containers' datacenter label names it. */
export const datacenter = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'a datacenter name as Consul writes one: lower-case letters, digits and dashes')
  .default('dc1');

export const signal = z.enum(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGQUIT']);

/** A bounded fault's `lastsMs`: undone `duration` after it started. */
export const lastsItsDuration = (action: { readonly duration: number }): number => action.duration;
