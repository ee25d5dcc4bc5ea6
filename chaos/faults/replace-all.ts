import { z } from 'zod';
import type { TargetContainer } from '../docker/docker-driver.js';
import { replacedBy } from '../engine/read-back.js';
import { duration } from '../scenario/duration.js';
import { timing } from './action-fields.js';
import { type FaultKind, HEALTHY_TIMEOUT_MS, SkippedStep } from './fault-kind.js';
import { available, nextPort } from './hello-targets.js';
import { settleAll } from './settle-all.js';
import { willTakeDown } from './take-down.js';

/** Every hello instance stopped at once (no instance left: keepAlive 0), then, after `downtime`, replaced by new ones on new ports. */
const schema = z
  .object({
    action: z.literal('replace-all'),
    portStep: z.number().int().min(1).default(5),
    downtime: duration.prefault('2s'),
    ...timing,
  })
  .strict();

export const replaceAll: FaultKind<typeof schema> = {
  schema,
  describe: (action) => `stop every hello instance, wait ${action.downtime} ms, start all again on port +${action.portStep}`,
  runsOn: { compose: true, swarm: false },
  needs: ['keep-alive-0', 'hello-to-copy'],
  apply: async (step, context) => {
    const { driver } = context;
    const { action } = step;
    const all = await available(context);
    if (context.keepAlive > 0) throw new Error(`replace-all needs keepAlive: 0 (it is ${context.keepAlive})`);
    if (all.length === 0) throw new SkippedStep('no hello instance');
    const replaced = new Map(all.map((target) => [target.containerId, willTakeDown(context, target)]));
    await settleAll(all.map((target) => driver.stop(target, 10_000)));
    await context.sleep(action.downtime);
    const newInstances: string[] = [];
    const started: TargetContainer[] = [];
    for (const target of all) {
      const replacement = await driver.startLike(target, await nextPort(context, target.port, action.portStep));
      started.push(replacement);
      newInstances.push(replacement.instanceId);
      await driver.remove(target);
      replaced.get(target.containerId)?.();
    }
    await Promise.all(started.map((target) => driver.waitHealthy(target, HEALTHY_TIMEOUT_MS)));
    return {
      targets: all.map((target) => target.instanceId),
      newInstances,
      detail: `${all.length} instances stopped, back on new ports after ${action.downtime} ms`,
      proof: replacedBy(driver, all, started),
    };
  },
};
