import { z } from 'zod';
import type { TargetContainer } from '../docker/docker-driver.js';
import { replacedBy } from '../engine/read-back.js';
import { timing } from './action-fields.js';
import { type FaultKind, HEALTHY_TIMEOUT_MS, SkippedStep } from './fault-kind.js';
import { available, nextPort } from './hello-targets.js';

/** Hello instances started (like the newest) or stopped and removed (the newest first, never below keepAlive) until there are `to`. */
const schema = z
  .object({ action: z.literal('scale'), to: z.number().int().min(0).max(20), portStep: z.number().int().min(0).default(5), ...timing })
  .strict();

export const scale: FaultKind<typeof schema> = {
  schema,
  describe: (action) => `scale hello instances to ${action.to}`,
  runsOn: { compose: true, swarm: false },
  needs: ['hello-to-copy'],
  apply: async (step, context) => {
    const { driver } = context;
    const { action } = step;
    const current = await available(context);
    const started: TargetContainer[] = [];
    const template = current[current.length - 1];
    if (!template) throw new SkippedStep('no hello instance to scale from');
    for (let count = current.length; count < action.to; count += 1) {
      started.push(await driver.startLike(template, await nextPort(context, template.port, action.portStep)));
    }
    const floor = Math.max(action.to, context.keepAlive);
    const removed = current.slice(floor).reverse();
    for (const victim of removed) {
      await driver.stop(victim, 10_000);
      await driver.remove(victim);
    }
    for (const target of started) await driver.waitHealthy(target, HEALTHY_TIMEOUT_MS);
    const startedNames = started.map((target) => `${target.name} (${target.ip}:${target.port})`);
    return {
      targets: removed.map((victim) => victim.instanceId),
      newInstances: started.map((target) => target.instanceId),
      detail: `scaled ${current.length} -> ${current.length + started.length - removed.length}${startedNames.length > 0 ? `, started ${startedNames.join(', ')}` : ''}`,
      proof: replacedBy(driver, removed, started),
    };
  },
};
