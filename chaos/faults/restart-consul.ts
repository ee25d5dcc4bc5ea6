import { z } from 'zod';
import { restartedSince } from '../engine/read-back.js';
import { duration } from '../scenario/duration.js';
import { timing } from './action-fields.js';
import { type FaultKind, HEALTHY_TIMEOUT_MS } from './fault-kind.js';
import { willTakeDown } from './take-down.js';

/** The Consul container stopped, left down for `downtime`, and started again, all within the step. */
const schema = z.object({ action: z.literal('restart-consul'), downtime: duration.prefault('2s'), ...timing }).strict();

export const restartConsul: FaultKind<typeof schema> = {
  schema,
  describe: (action) => `restart Consul (down ${action.downtime} ms)`,
  runsOn: { compose: true, swarm: false },
  needs: ['consul-container'],
  apply: async (step, context) => {
    const { driver } = context;
    const [consul] = await driver.targets('consul');
    if (!consul) throw new Error('no labelled consul container in this scope');
    // Started again here, within the step; the undo is for a step that fails before it gets there.
    const startedAgain = willTakeDown(context, consul);
    const stoppingAt = Date.now();
    await driver.stop(consul, 2_000);
    await context.sleep(step.action.downtime);
    await driver.start(consul);
    startedAgain();
    const healthy = await driver.waitHealthy(consul, HEALTHY_TIMEOUT_MS);
    return {
      targets: [consul.name],
      newInstances: [],
      detail: `consul down ${step.action.downtime} ms${healthy ? '' : ', NOT healthy after'}`,
      // Down and back within the step: a start later than the stop.
      proof: restartedSince(driver, consul, stoppingAt),
    };
  },
};
