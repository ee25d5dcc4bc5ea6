import { z } from 'zod';
import { duration } from '../scenario/duration.js';
import { target, timing } from './action-fields.js';
import { oneInstanceKind } from './one-instance.js';
import { takenDown } from './take-down.js';

/** A hello instance stopped gracefully (SIGTERM, then SIGKILL after `timeout`); started again when the fault is undone. */
const schema = z.object({ action: z.literal('stop'), target, timeout: duration.prefault('10s'), ...timing }).strict();

export const stop = oneInstanceKind(schema, {
  describe: (action) => `stop ${action.target} instance (timeout ${action.timeout} ms)`,
  runsOn: { compose: true, swarm: false },
  faultOn: (victim, { action }, { driver }) =>
    takenDown(driver, victim, () => driver.stop(victim, action.timeout), `stopped ${victim.name}`),
});
