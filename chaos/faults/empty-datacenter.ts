import { z } from 'zod';
import { allOf, containerIs, passingInDatacenter } from '../engine/read-back.js';
import { duration } from '../scenario/duration.js';
import { datacenter, timing } from './action-fields.js';
import { consulToReadBack, DATACENTER_FAULT, datacenterTargets, namesOf } from './datacenter-targets.js';
import type { FaultKind } from './fault-kind.js';
import { holdUntilUndone } from './hold-until-undone.js';
import { settleAll } from './settle-all.js';

/**
 * PROFILE=multi-dc: every hello instance of one datacenter stopped (SIGTERM,
 * so each drains, then SIGKILL after `timeout`) for `duration`, its Consul
 * left running: the datacenter answers, with no instance to give. Proven by
 * its Consul too: none of them passing, then every one again.
 */
const schema = z
  .object({
    action: z.literal('empty-datacenter'),
    datacenter,
    duration: duration.prefault('15s'),
    timeout: duration.prefault('10s'),
    ...timing,
  })
  .strict();

export const emptyDatacenter: FaultKind<typeof schema> = {
  schema,
  describe: (action) => `empty datacenter ${action.datacenter} (its instances stopped, its Consul up) for ${action.duration} ms`,
  ...DATACENTER_FAULT,
  needs: ['two-datacenters', 'consul-api'],
  apply: async (step, context) => {
    const { driver } = context;
    const { datacenter: emptied, timeout } = step.action;
    const consul = consulToReadBack(context, emptied);
    const { hello } = await datacenterTargets(context, emptied, ['hello']);
    const instanceIds = hello.map((instance) => instance.instanceId);
    holdUntilUndone(context, hello, {
      description: `start ${emptied}'s instances again (${namesOf(hello)})`,
      run: () => settleAll(hello.map((instance) => driver.start(instance))),
      proof: allOf([
        ...hello.map((instance) => containerIs(driver, instance, 'running')),
        passingInDatacenter(consul, emptied, instanceIds, { passing: true }),
      ]),
    });
    await settleAll(hello.map((instance) => driver.stop(instance, timeout)));
    return {
      targets: instanceIds,
      newInstances: [],
      detail: `stopped every instance of ${emptied}: ${namesOf(hello)}`,
      proof: allOf([
        ...hello.map((instance) => containerIs(driver, instance, 'down')),
        passingInDatacenter(consul, emptied, instanceIds, { passing: false }),
      ]),
    };
  },
};
