import { z } from 'zod';
import { signal, target, timing } from './action-fields.js';
import { oneInstanceKind } from './one-instance.js';
import { takenDown } from './take-down.js';

/** A hello instance killed with a signal; started again (same container) when the fault is undone. */
const schema = z.object({ action: z.literal('kill'), target, signal: signal.default('SIGKILL'), ...timing }).strict();

export const kill = oneInstanceKind(schema, {
  describe: (action) => `kill ${action.target} instance with ${action.signal}`,
  runsOn: { compose: true, swarm: false },
  faultOn: (victim, { action }, { driver }) =>
    takenDown(driver, victim, () => driver.kill(victim, action.signal), `${action.signal} ${victim.name}`),
});
