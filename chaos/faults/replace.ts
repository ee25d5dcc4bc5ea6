import { z } from 'zod';
import { replacedBy } from '../engine/read-back.js';
import { signal, target, timing } from './action-fields.js';
import { type FaultKind, HEALTHY_TIMEOUT_MS } from './fault-kind.js';
import { nextPort, pickTarget } from './hello-targets.js';
import { willTakeDown } from './take-down.js';

/** A hello instance replaced: the old container goes, a new one like it starts (a new address, and port unless portStep is 0). */
const schema = z
  .object({
    action: z.literal('replace'),
    target,
    /** How the old container goes: killed with a signal, or stopped gracefully. */
    how: z.enum(['kill', 'stop']).default('kill'),
    signal: signal.default('SIGKILL'),
    /** 0 keeps the port: the new container may then be given the old one's address and port. */
    portStep: z.number().int().min(0).max(1_000).default(5),
    ...timing,
  })
  .strict();

export const replace: FaultKind<typeof schema> = {
  schema,
  describe: (action) =>
    `replace ${action.target} instance (${action.how === 'kill' ? action.signal : 'graceful stop'}) by a new one on ${action.portStep === 0 ? 'the same port' : `port +${action.portStep}`}`,
  draws: () => 'hello instance',
  runsOn: { compose: true, swarm: false },
  needs: [],
  apply: async (step, context) => {
    const { driver } = context;
    const { action } = step;
    const old = await pickTarget(step, context);
    // Until its replacement runs, the old container is the one to bring back.
    const replaced = willTakeDown(context, old);
    if (action.how === 'kill') await driver.kill(old, action.signal);
    else await driver.stop(old, 10_000);
    const port = await nextPort(context, old.port, action.portStep);
    const replacement = await driver.startLike(old, port);
    await driver.remove(old);
    replaced();
    const healthy = await driver.waitHealthy(replacement, HEALTHY_TIMEOUT_MS);
    return {
      targets: [old.instanceId],
      newInstances: [replacement.instanceId],
      detail: `${old.name} (${old.ip}:${old.port}) -> ${replacement.name} (${replacement.ip}:${replacement.port})${healthy ? '' : ' NOT healthy'}`,
      proof: replacedBy(driver, [old], [replacement]),
    };
  },
};
