import { z } from 'zod';
import { allOf, containerIs, passingInDatacenter } from '../engine/read-back.js';
import { duration } from '../scenario/duration.js';
import { datacenter, timing } from './action-fields.js';
import { consulToReadBack, DATACENTER_FAULT, datacenterTargets, namesOf } from './datacenter-targets.js';
import { type FaultKind, HEALTHY_TIMEOUT_MS } from './fault-kind.js';
import { holdUntilUndone } from './hold-until-undone.js';
import { settleAll } from './settle-all.js';

/**
 * PROFILE=multi-dc: every container of one datacenter stopped at once, its
 * Consul servers and its instances (SIGTERM, then SIGKILL after `timeout`),
 * for `duration`. Undone as a datacenter comes back: its Consul first, its
 * instances once Consul answers (they register with it).
 */
const schema = z
  .object({
    action: z.literal('lose-datacenter'),
    datacenter,
    duration: duration.prefault('15s'),
    timeout: duration.prefault('10s'),
    ...timing,
  })
  .strict();

export const loseDatacenter: FaultKind<typeof schema> = {
  schema,
  describe: (action) => `lose datacenter ${action.datacenter} (its Consul and instances stopped) for ${action.duration} ms`,
  ...DATACENTER_FAULT,
  needs: ['two-datacenters', 'consul-api'],
  apply: async (step, context) => {
    const { driver } = context;
    const { datacenter: lost, timeout } = step.action;
    const consul = consulToReadBack(context, lost);
    const targets = await datacenterTargets(context, lost, ['consul', 'hello']);
    const all = [...targets.consul, ...targets.hello];
    const instanceIds = targets.hello.map((target) => target.instanceId);
    holdUntilUndone(context, all, {
      description: `start ${lost}'s Consul (${namesOf(targets.consul)}), then its instances (${namesOf(targets.hello)})`,
      run: async () => {
        try {
          await settleAll(targets.consul.map((server) => driver.start(server)));
          await Promise.all(targets.consul.map((server) => driver.waitHealthy(server, HEALTHY_TIMEOUT_MS)));
        } finally {
          // Even when its Consul did not come back: instances left stopped would be a fault nobody undoes.
          await settleAll(targets.hello.map((instance) => driver.start(instance)));
        }
      },
      proof: allOf([
        ...all.map((target) => containerIs(driver, target, 'running')),
        passingInDatacenter(consul, lost, instanceIds, { passing: true }),
      ]),
    });
    await settleAll(all.map((target) => driver.stop(target, timeout)));
    return {
      targets: [...targets.consul.map((server) => server.name), ...instanceIds],
      newInstances: [],
      detail: `stopped every container of ${lost}: ${namesOf(all)}`,
      proof: allOf(all.map((target) => containerIs(driver, target, 'down'))),
    };
  },
};
