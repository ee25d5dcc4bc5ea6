import { z } from 'zod';
import { FAULT_KINDS } from '../faults/registry.js';
import { duration } from './duration.js';

/**
 * A chaos scenario, as data: a steady-state hypothesis judged on the client's
 * /stats, a method of timed faults, and the limits that keep it safe.
 * Durations are written "500ms", "5s" or "1m".
 */

type KindSchema = (typeof FAULT_KINDS)[keyof typeof FAULT_KINDS]['schema'];
/** One step of the method: the kind named by `action` says what else it may hold (faults/<kind>.ts). */
export const actionSchema = z.discriminatedUnion(
  'action',
  Object.values(FAULT_KINDS).map((kind) => kind.schema) as [KindSchema, ...KindSchema[]],
);

export const scenarioSchema = z
  .object({
    title: z.string().min(1),
    description: z.string().default(''),
    hypothesis: z
      .object({
        /** ok / (ok + failed + wrong) over the calls made since the method started. */
        successRatioAtLeast: z.number().min(0).max(1).default(1),
        maxWrong: z.number().int().min(0).default(0),
        /** Every running, reachable instance answered a call within this window. */
        everyLiveInstanceServedWithin: duration.prefault('5s'),
      })
      .strict()
      .prefault({}),
    method: z.array(actionSchema).min(1),
    /** Traffic watched after the last action before the final verdict. */
    settle: duration.prefault('10s'),
    /** At least this many hello instances are never touched at once; 0 allows all. */
    keepAlive: z.number().int().min(0).default(1),
  })
  .strict();

export type Scenario = z.output<typeof scenarioSchema>;
export type Action = z.output<typeof actionSchema>;
export type ActionKind = Action['action'];
