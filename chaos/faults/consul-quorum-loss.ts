import { allOf, containerIs } from '../engine/read-back.js';
import { CONSUL_SERVER_FAULT, consulServerSchema, consulServers } from './consul-servers.js';
import type { FaultKind } from './fault-kind.js';
import { holdUntilUndone } from './hold-until-undone.js';
import { settleAll } from './settle-all.js';

/** PROFILE=ha: stop 2 of the 3 servers, so there is no quorum and no leader, for `duration`. */
const schema = consulServerSchema('consul-quorum-loss', '20s');

export const consulQuorumLoss: FaultKind<typeof schema> = {
  schema,
  describe: (action) => `stop 2 of the 3 Consul servers (no quorum) for ${action.duration} ms`,
  draws: () => 'Consul server',
  ...CONSUL_SERVER_FAULT,
  apply: async (step, context) => {
    const { driver } = context;
    const { leader, followers } = await consulServers(context);
    const servers = leader ? [...followers, leader] : followers;
    // Two of three, drawn with the seed: the one left cannot form a quorum alone.
    const kept = servers[step.pick % servers.length];
    const stopped = servers.filter((server) => server !== kept);
    const names = stopped.map((server) => server.name).join(' and ');
    holdUntilUndone(context, stopped, {
      description: `start ${names} again`,
      run: () => settleAll(stopped.map((server) => driver.start(server))),
      proof: allOf(stopped.map((server) => containerIs(driver, server, 'running'))),
    });
    await settleAll(stopped.map((server) => driver.stop(server, 2_000)));
    return {
      targets: stopped.map((server) => server.name),
      newInstances: [],
      detail: `stopped ${names}; ${kept?.name} alone has no quorum`,
      proof: allOf(stopped.map((server) => containerIs(driver, server, 'down'))),
    };
  },
};
