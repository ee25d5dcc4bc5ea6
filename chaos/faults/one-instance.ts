import { z } from 'zod';
import type { TargetContainer } from '../docker/docker-driver.js';
import type { ReadBack } from '../engine/read-back.js';
import { target, type TargetPolicy, timing } from './action-fields.js';
import { duration } from '../scenario/duration.js';
import type { FaultKind, FaultStep, StackNeed, StepContext, StepOutcome, Undo } from './fault-kind.js';
import { pickTarget } from './hello-targets.js';
import { holdUntilUndone } from './hold-until-undone.js';

/** What a fault does to the one hello instance drawn for it. */
export interface InstanceFault {
  readonly act: () => Promise<void>;
  readonly detail: string;
  /** Read back once `act` returned: the fault is in place. */
  readonly proof: ReadBack;
  /** Registered, with the instance marked under fault, before `act` runs. */
  readonly undo: Undo;
}

/**
 * The shape most kinds share: draw one hello instance (leaving keepAlive
 * untouched), hold it with the fault's undo registered, then act.
 */
export async function faultOneInstance(
  step: FaultStep<{ readonly target: TargetPolicy }>,
  context: StepContext,
  faultOn: (victim: TargetContainer) => InstanceFault | Promise<InstanceFault>,
): Promise<StepOutcome> {
  const victim = await pickTarget(step, context);
  return holdThenAct(context, victim, victim.instanceId, await faultOn(victim));
}

/** A fault on one container, `named` so in the journal: held with its undo registered, then acted. */
export async function holdThenAct(
  context: StepContext,
  victim: TargetContainer,
  named: string,
  { act, detail, proof, undo }: InstanceFault,
): Promise<StepOutcome> {
  holdUntilUndone(context, [victim], undo);
  await act();
  return { targets: [named], newInstances: [], detail, proof };
}

/** A step that hits one drawn instance for `duration`, with the kind's own `fields`. */
export function boundedInstanceSchema<Name extends string, Fields extends z.ZodRawShape>(name: Name, fields: Fields) {
  return z.object({ action: z.literal(name), target, duration, ...fields, ...timing }).strict();
}

type InstanceSchema = z.ZodObject<{ action: z.ZodLiteral<string>; target: typeof target }, z.core.$strict>;

/** What a kind that hits one drawn hello instance says of itself; its draw, its hold and its outcome are faultOneInstance's. */
export interface OneInstanceKind<Schema extends InstanceSchema> extends Pick<FaultKind<Schema>, 'describe' | 'lastsMs' | 'runsOn'> {
  readonly needs?: readonly StackNeed[];
  faultOn(victim: TargetContainer, step: FaultStep<z.output<Schema>>, context: StepContext): InstanceFault | Promise<InstanceFault>;
}

export function oneInstanceKind<Schema extends InstanceSchema>(schema: Schema, own: OneInstanceKind<Schema>): FaultKind<Schema> {
  return {
    schema,
    describe: (action) => own.describe(action),
    ...(own.lastsMs && { lastsMs: own.lastsMs }),
    draws: () => 'hello instance',
    runsOn: own.runsOn,
    needs: own.needs ?? [],
    apply: (step, context) => faultOneInstance(step, context, (victim) => own.faultOn(victim, step, context)),
  };
}
