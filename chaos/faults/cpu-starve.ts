import { z } from 'zod';
import { coresOf, describeCpu, restoredCpu, starvedCpu } from '../docker/resource-limits.js';
import { cpuLimited } from '../engine/read-back.js';
import { lastsItsDuration } from './action-fields.js';
import { boundedInstanceSchema, oneInstanceKind } from './one-instance.js';

// Docker's smallest CFS quota is 1 ms per 100 ms period.
const CPUS = 'a share of one core from 0.01 (Docker takes no less) to 1, such as 0.05';

/**
 * One instance throttled to `cpus` of a core for `duration` (docker update):
 * it keeps running and answering, late. Its limit as it was is read first
 * and set back by the undo.
 */
const schema = boundedInstanceSchema('cpu-starve', {
  cpus: z.number({ error: CPUS }).min(0.01, CPUS).max(1, CPUS).default(0.05),
});

export const cpuStarve = oneInstanceKind(schema, {
  describe: (action) => `starve ${action.target} instance to ${action.cpus} of a core for ${action.duration} ms`,
  lastsMs: lastsItsDuration,
  runsOn: { compose: true, swarm: true },
  faultOn: async (victim, { action }, { driver }) => {
    const original = await driver.limits(victim);
    return {
      act: () => driver.updateLimits(victim, starvedCpu(original, action.cpus)),
      detail: `${victim.name} (${victim.ip}:${victim.port}) limited to ${action.cpus} of a core, from ${describeCpu(original)}`,
      proof: cpuLimited(driver, victim, action.cpus),
      undo: {
        description: `give ${victim.name} its CPU back`,
        run: () => driver.updateLimits(victim, restoredCpu(original)),
        proof: cpuLimited(driver, victim, coresOf(original)),
      },
    };
  },
});
