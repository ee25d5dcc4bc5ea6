import { z } from 'zod';
import { containerIs } from '../engine/read-back.js';
import { signal, target, timing } from './action-fields.js';
import { type FaultKind, HEALTHY_TIMEOUT_MS } from './fault-kind.js';
import { pickTarget } from './hello-targets.js';

/** Swarm only: kill a hello task; Swarm's own rescheduling starts a new task (container, address, instance id) in its place. */
const schema = z.object({ action: z.literal('reschedule'), target, signal: signal.default('SIGKILL'), ...timing }).strict();

export const reschedule: FaultKind<typeof schema> = {
  schema,
  describe: (action) => `kill ${action.target} Swarm task with ${action.signal}; Swarm starts a new one`,
  draws: () => 'hello instance',
  runsOn: { compose: false, swarm: true },
  needs: [],
  apply: async (step, context) => {
    const { driver } = context;
    const { signal } = step.action;
    const victim = await pickTarget(step, context);
    if (victim.swarmService === '') throw new Error(`${victim.name} is not a Swarm task`);
    const killedAt = Date.now();
    await driver.kill(victim, signal);
    // Nothing to undo: starting the dead task again is Swarm's job, and what is measured.
    const replacement = await driver.swarmReplacement(victim, killedAt, HEALTHY_TIMEOUT_MS);
    return {
      targets: [victim.instanceId],
      newInstances: replacement ? [replacement.instanceId] : [],
      detail: replacement
        ? `${signal} ${victim.name} (${victim.ip}:${victim.port}); Swarm started ${replacement.name} (${replacement.ip}:${replacement.port}), healthy ${((Date.now() - killedAt) / 1_000).toFixed(1)} s after the kill`
        : `${signal} ${victim.name}; Swarm started NO healthy replacement within ${HEALTHY_TIMEOUT_MS / 1_000} s`,
      // The fault is the kill; whether Swarm replaced it is what the run measures (newInstances).
      proof: containerIs(driver, victim, 'down'),
    };
  },
};
