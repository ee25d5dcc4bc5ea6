import { z } from 'zod';
import { duration } from '../scenario/duration.js';
import { trafficDropped } from '../engine/read-back.js';
import { lastsItsDuration, target, timing } from './action-fields.js';
import { oneInstanceKind } from './one-instance.js';

/** Every packet in and out dropped for `duration`; the container keeps its interface and address. */
const schema = z.object({ action: z.literal('partition'), target, duration: duration, ...timing }).strict();

export const partition = oneInstanceKind(schema, {
  describe: (action) => `partition ${action.target} instance (every packet dropped) for ${action.duration} ms`,
  lastsMs: lastsItsDuration,
  runsOn: { compose: true, swarm: true },
  faultOn: (victim, _step, { driver }) => ({
    act: () => driver.dropTraffic(victim),
    detail: `dropping every packet of ${victim.name} (${victim.ip}:${victim.port})`,
    proof: trafficDropped(driver, victim, { dropped: true }),
    undo: {
      description: `let ${victim.name}'s packets through again`,
      run: () => driver.restoreTraffic(victim),
      proof: trafficDropped(driver, victim, { dropped: false }),
    },
  }),
});
