import { CONSUL_SERVER_FAULT, consulServerSchema, consulServers, killConsulServer } from './consul-servers.js';
import type { FaultKind } from './fault-kind.js';

/** PROFILE=ha: SIGKILL the Raft leader (found through Consul's API); it starts again after `duration`. */
const schema = consulServerSchema('kill-consul-leader', '15s');

export const killConsulLeader: FaultKind<typeof schema> = {
  schema,
  describe: (action) => `SIGKILL the Consul leader, start it again after ${action.duration} ms`,
  ...CONSUL_SERVER_FAULT,
  apply: async (_step, context) => {
    const { leader } = await consulServers(context);
    if (!leader) throw new Error('no Consul server is the leader now (an election is under way)');
    return killConsulServer(context, leader, 'the Consul leader');
  },
};
