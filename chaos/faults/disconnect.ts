import { z } from 'zod';
import { duration } from '../scenario/duration.js';
import { networksOf } from '../engine/read-back.js';
import { lastsItsDuration, target, timing } from './action-fields.js';
import { oneInstanceKind } from './one-instance.js';

/** The container leaves its networks for `duration`; when it joins again Docker may give it another address. */
const schema = z.object({ action: z.literal('disconnect'), target, duration: duration, ...timing }).strict();

export const disconnect = oneInstanceKind(schema, {
  describe: (action) => `disconnect ${action.target} instance from its network for ${action.duration} ms`,
  lastsMs: lastsItsDuration,
  runsOn: { compose: true, swarm: false },
  faultOn: async (victim, _step, { driver }) => {
    // Read before it leaves: its aliases are what it joins again under.
    const aliases = await driver.aliases(victim);
    return {
      act: async () => {
        for (const network of victim.networks) await driver.disconnect(victim, network);
      },
      detail: `disconnected ${victim.name} (${victim.ip}:${victim.port}) from ${victim.networks.join(', ')}`,
      proof: networksOf(driver, victim, { attached: false }),
      undo: {
        description: `reconnect ${victim.name}`,
        run: async () => {
          for (const network of victim.networks) await driver.reconnect(victim, network, aliases[network] ?? []);
        },
        proof: networksOf(driver, victim, { attached: true }),
      },
    };
  },
});
