import type { ConsulHttp } from '@grpc-consul-lab/consul-discovery';
import type { z } from 'zod';
import type { DockerDriver } from '../docker/docker-driver.js';
import type { ReadBack } from '../engine/read-back.js';

/**
 * What one fault kind is, whole: the module of a kind (faults/<kind>.ts)
 * exports one of these, and faults/registry.ts lists it under its name. The
 * schema, the planner, the preconditions and the runner know a kind only
 * through it.
 *
 * A kind's `apply` registers its undo (holdUntilUndone) *before* it acts, so
 * a fault that fails halfway (container gone, Docker error) is rolled back as
 * far as it got: undos are written to be safe on a fault that did not happen
 * (start a running container, unpause one not paused, reconnect a connected
 * one, delete a missing key). Each step and each undo also says how to prove
 * it (`proof`, engine/read-back.ts): what to read back from Docker or Consul
 * once it ran. The runner reads it and journals what it saw.
 */
export interface FaultKind<Schema extends ActionSchema = ActionSchema> {
  /** What a step of this kind may say in a scenario file: a strict object whose `action` is the kind's name. */
  readonly schema: Schema;
  /** The step in one line, as the plan, the journal and the live view show it. */
  describe(action: z.output<Schema>): string;
  /** A bounded fault: how long after it starts the runner undoes it. Absent for a step that is over once applied. */
  lastsMs?(action: z.output<Schema>): number;
  /**
   * What the step's seeded draw (`pick`) chooses at run time, so the plan
   * prints it: one hello instance (the blast radius must then leave one to
   * take), or a Consul server. Undefined (or absent) when the target follows
   * from the stack (the leader, the Consul container, every instance), as
   * for a network toxic `on: consul`.
   */
  draws?(action: z.output<Schema>): 'hello instance' | 'Consul server' | undefined;
  /** The stacks it can run on: make up's (Compose, either PROFILE) and make swarm-up's (Swarm). */
  readonly runsOn: { readonly compose: boolean; readonly swarm: boolean };
  /** What else it needs of the stack, checked before anything changes (scenario/preconditions.ts words each). */
  readonly needs: readonly StackNeed[];
  /**
   * The datacenter a step of this kind takes out whole (PROFILE=multi-dc):
   * the preconditions check the stack has it and instances beyond it, and the
   * runner times the client's move away from it and back (engine/datacenter-switches.ts).
   */
  datacenterOf?(action: z.output<Schema>): string;
  /** Carries out one planned step against the labelled containers. */
  apply(step: FaultStep<z.output<Schema>>, context: StepContext): Promise<StepOutcome>;
}

/** A step's schema: `action` is the literal name of its kind (the union's discriminator). */
export type ActionSchema<Name extends string = string> = z.ZodObject<{ readonly action: z.ZodLiteral<Name> }, z.core.$strict>;

/**
 * - consul-cluster: the 3 Consul servers of PROFILE=ha
 * - consul-container: a running Consul container labelled as a chaos target
 * - consul-api: Consul's API (leaders are found and gray faults written through it)
 * - keep-alive-0: a scenario whose keepAlive lets every instance go at once
 * - hello-to-copy: a running hello instance to start new ones like
 * - two-datacenters: the two Consul datacenters of PROFILE=multi-dc, their containers labelled with theirs
 * - sized-consul-data: Consul's data directory on a filesystem of its own size (make up CONSUL_DATA_SIZE=64m)
 */
export type StackNeed =
  'consul-cluster' | 'consul-container' | 'consul-api' | 'keep-alive-0' | 'hello-to-copy' | 'two-datacenters' | 'sized-consul-data';

/** What `apply` is given of a planned step: the action as parsed and its seeded draw. */
export interface FaultStep<Action> {
  readonly action: Action;
  /** A seeded draw that picks the target among the live candidates at run time. */
  readonly pick: number;
}

export interface Undo {
  readonly description: string;
  readonly run: () => Promise<void>;
  /** Read back after `run`: the fault is gone. */
  readonly proof: ReadBack;
}

export interface StepOutcome {
  readonly targets: string[];
  readonly newInstances: string[];
  readonly detail: string;
  /** Read back once the step returned: the fault is in place (or, for a replacement, the new containers run). */
  readonly proof: ReadBack;
}

/** What `apply` is given by the runner: the run's means, and where its undo goes before it acts. */
export interface StepContext {
  readonly driver: DockerDriver;
  readonly keepAlive: number;
  /** Containers under a fault right now: never picked again, never counted as available. */
  readonly underFault: Set<string>;
  readonly sleep: (ms: number) => Promise<void>;
  /** Consul's API: the Raft leader is found and gray faults are written through it. */
  readonly consul?: ConsulHttp;
  /**
   * Registers an undo of what the step is about to do. The runner runs it at
   * the step's `untilMs` or the end of the run, or at once if the step fails.
   * The returned function withdraws it (the fault ended by itself).
   * Kinds call it through holdUntilUndone, which also marks what is held.
   */
  readonly willUndo: (undo: Undo) => () => void;
}

/**
 * A step left out on purpose by the scenario's own rules: the blast radius
 * (keepAlive), or every candidate already under another of its faults. Not a
 * failure; a step that cannot apply on this stack (no Consul cluster, no
 * leader, no Consul API) throws a plain Error and fails.
 */
export class SkippedStep extends Error {}

/** How long a started container (a replacement, Consul after its restart) may take to report healthy. */
export const HEALTHY_TIMEOUT_MS = 60_000;
