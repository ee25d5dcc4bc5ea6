import { z } from 'zod';
import { signal, target, timing } from '../faults/action-fields.js';
import { duration } from './duration.js';

/**
 * A chaos scenario, as data: a steady-state hypothesis judged on the client's
 * /stats, a method of timed faults, and the limits that keep it safe.
 * Durations are written "500ms", "5s" or "1m".
 */
export const actionSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('kill'), target, signal: signal.default('SIGKILL'), ...timing }).strict(),
  z.object({ action: z.literal('stop'), target, timeout: duration.prefault('10s'), ...timing }).strict(),
  /** Swarm only: kill a hello task; Swarm's own rescheduling starts a new task (container, address, instance id) in its place. */
  z.object({ action: z.literal('reschedule'), target, signal: signal.default('SIGKILL'), ...timing }).strict(),
  z
    .object({
      action: z.literal('replace'),
      target,
      /** How the old container goes: killed with a signal, or stopped gracefully. */
      how: z.enum(['kill', 'stop']).default('kill'),
      signal: signal.default('SIGKILL'),
      /** 0 keeps the port: the new container may then be given the old one's address and port. */
      portStep: z.number().int().min(0).max(1_000).default(5),
      ...timing,
    })
    .strict(),
  z.object({ action: z.literal('pause'), target, duration: duration, ...timing }).strict(),
  /** Every packet in and out dropped; the container keeps its interface and address. */
  z.object({ action: z.literal('partition'), target, duration: duration, ...timing }).strict(),
  /** The container leaves its networks; when it joins again Docker may give it another address. */
  z.object({ action: z.literal('disconnect'), target, duration: duration, ...timing }).strict(),
  z.object({ action: z.literal('restart-consul'), downtime: duration.prefault('2s'), ...timing }).strict(),
  // Gray faults, through Consul's KV (services/lib/gray-fault.ts): the instance stays up and answers badly for `duration`.
  /** Every answer `delay` late, give or take `delayJitter`. */
  z
    .object({
      action: z.literal('slow'),
      target,
      duration,
      delay: duration.prefault('300ms'),
      delayJitter: duration.prefault('0ms'),
      ...timing,
    })
    .strict(),
  /** A `ratio` of calls answered with `code`. */
  z
    .object({
      action: z.literal('flaky'),
      target,
      duration,
      ratio: z.number().min(0).max(1).default(0.5),
      code: z.enum(['UNAVAILABLE', 'INTERNAL']).default('UNAVAILABLE'),
      ...timing,
    })
    .strict(),
  /** Wrong sums: the client must count every one wrong. */
  z.object({ action: z.literal('corrupt'), target, duration, ...timing }).strict(),
  /** Health NOT_SERVING while calls are still answered: Consul takes it out. */
  z.object({ action: z.literal('unhealthy'), target, duration, ...timing }).strict(),
  /** PROFILE=ha: SIGKILL the Raft leader (found through Consul's API); it starts again after `duration`. */
  z.object({ action: z.literal('kill-consul-leader'), duration: duration.prefault('15s'), ...timing }).strict(),
  /** PROFILE=ha: SIGKILL a server that is not the leader; it starts again after `duration`. */
  z.object({ action: z.literal('kill-consul-follower'), duration: duration.prefault('15s'), ...timing }).strict(),
  /** PROFILE=ha: stop 2 of the 3 servers, so there is no quorum and no leader, for `duration`. */
  z.object({ action: z.literal('consul-quorum-loss'), duration: duration.prefault('20s'), ...timing }).strict(),
  z
    .object({ action: z.literal('scale'), to: z.number().int().min(0).max(20), portStep: z.number().int().min(0).default(5), ...timing })
    .strict(),
  z
    .object({
      action: z.literal('replace-all'),
      portStep: z.number().int().min(1).default(5),
      downtime: duration.prefault('2s'),
      ...timing,
    })
    .strict(),
]);

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
