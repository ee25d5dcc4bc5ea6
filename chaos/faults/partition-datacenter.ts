import { z } from 'zod';
import { allOf, trafficDropped } from '../engine/read-back.js';
import { duration } from '../scenario/duration.js';
import { datacenter, timing } from './action-fields.js';
import { DATACENTER_FAULT, datacenterTargets, namesOf } from './datacenter-targets.js';
import type { FaultKind } from './fault-kind.js';
import { holdUntilUndone } from './hold-until-undone.js';
import { settleAll } from './settle-all.js';

/**
 * PROFILE=multi-dc: every packet in and out of each container of one
 * datacenter (its Consul servers and its instances) dropped for `duration`:
 * cut off from the client and from the other datacenter, every container
 * keeping its interface and its address, as in a real network partition.
 * (Loopback aside, the datacenter's containers lose each other too.)
 */
const schema = z.object({ action: z.literal('partition-datacenter'), datacenter, duration: duration.prefault('15s'), ...timing }).strict();

export const partitionDatacenter: FaultKind<typeof schema> = {
  schema,
  describe: (action) => `partition datacenter ${action.datacenter} (every packet of its containers dropped) for ${action.duration} ms`,
  ...DATACENTER_FAULT,
  needs: ['two-datacenters'],
  apply: async (step, context) => {
    const { driver } = context;
    const cut = step.action.datacenter;
    const targets = await datacenterTargets(context, cut, ['consul', 'hello']);
    const all = [...targets.consul, ...targets.hello];
    holdUntilUndone(context, all, {
      description: `let the packets of ${cut}'s containers through again (${namesOf(all)})`,
      // All at once: the datacenter comes back as one, not container by container.
      run: () => settleAll(all.map((target) => driver.restoreTraffic(target))),
      proof: allOf(all.map((target) => trafficDropped(driver, target, { dropped: false }))),
    });
    await settleAll(all.map((target) => driver.dropTraffic(target)));
    return {
      targets: [...targets.consul.map((server) => server.name), ...targets.hello.map((instance) => instance.instanceId)],
      newInstances: [],
      detail: `dropping every packet of ${cut}'s containers: ${all.map((target) => `${target.name} (${target.ip})`).join(', ')}`,
      proof: allOf(all.map((target) => trafficDropped(driver, target, { dropped: true }))),
    };
  },
};
