import { z } from 'zod';
import { describeGrayFault, faultKey, type GrayFault } from '../../packages/contracts/gray-fault.js';
import { duration } from '../scenario/duration.js';
import { kvHolds } from '../engine/read-back.js';
import { lastsItsDuration, target, timing } from './action-fields.js';
import type { FaultKind } from './fault-kind.js';
import { faultOneInstance } from './one-instance.js';

/**
 * The gray faults (slow, flaky, corrupt, unhealthy), through Consul's KV
 * (packages/contracts/gray-fault.ts): the instance stays up and answers badly for
 * `duration`. They differ only in their own fields, their line, and the
 * fault they write, so those are all a kind's module gives.
 */
export function grayFaultSchema<Name extends string, Fields extends z.ZodRawShape>(name: Name, fields: Fields) {
  return z.object({ action: z.literal(name), target, duration, ...fields, ...timing }).strict();
}

/** What the shared part needs of a gray fault's schema (a kind's own fields come on top). */
type GrayFaultSchema = z.ZodObject<{ action: z.ZodLiteral<string>; target: typeof target; duration: typeof duration }, z.core.$strict>;

export function grayFaultKind<Schema extends GrayFaultSchema>(
  schema: Schema,
  own: { describe(action: z.output<Schema>): string; grayFault(action: z.output<Schema>): GrayFault },
): FaultKind<Schema> {
  return {
    schema,
    describe: (action) => own.describe(action),
    lastsMs: lastsItsDuration,
    draws: () => 'hello instance',
    runsOn: { compose: true, swarm: true },
    needs: ['consul-api'],
    apply: async (step, context) => {
      const consul = context.consul;
      if (!consul) throw new Error('no Consul API to set a gray fault through');
      const fault = own.grayFault(step.action);
      // A write that fails may still have landed (no answer is not no write): the undo, registered first, deletes it either way.
      return faultOneInstance(step, context, (victim) => {
        const key = faultKey(victim.instanceId);
        const value = JSON.stringify(fault);
        return {
          undo: {
            description: `clear the gray fault on ${victim.name}`,
            run: () => consul.kvDelete(key),
            proof: kvHolds(consul, key, undefined),
          },
          act: () => consul.kvPut(key, value),
          detail: `${describeGrayFault(fault)} on ${victim.name} (${victim.ip}:${victim.port})`,
          proof: kvHolds(consul, key, value),
        };
      });
    },
  };
}
