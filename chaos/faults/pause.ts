import { z } from 'zod';
import { duration } from '../scenario/duration.js';
import { containerIs } from '../engine/read-back.js';
import { lastsItsDuration, target, timing } from './action-fields.js';
import { oneInstanceKind } from './one-instance.js';

/** A hello instance frozen (its processes paused) for `duration`: connections stay open, nothing answers. */
const schema = z.object({ action: z.literal('pause'), target, duration: duration, ...timing }).strict();

export const pause = oneInstanceKind(schema, {
  describe: (action) => `pause ${action.target} instance for ${action.duration} ms`,
  lastsMs: lastsItsDuration,
  runsOn: { compose: true, swarm: true },
  faultOn: (victim, _step, { driver }) => ({
    act: () => driver.pause(victim),
    detail: `paused ${victim.name}`,
    proof: containerIs(driver, victim, 'paused'),
    undo: { description: `unpause ${victim.name}`, run: () => driver.unpause(victim), proof: containerIs(driver, victim, 'running') },
  }),
});
