import { CONSUL_SERVER_FAULT, consulServerSchema, consulServers, killConsulServer } from './consul-servers.js';
import type { FaultKind } from './fault-kind.js';

/** PROFILE=ha: SIGKILL a server that is not the leader, drawn with the seed; it starts again after `duration`. */
const schema = consulServerSchema('kill-consul-follower', '15s');

export const killConsulFollower: FaultKind<typeof schema> = {
  schema,
  describe: (action) => `SIGKILL a Consul follower, start it again after ${action.duration} ms`,
  draws: () => 'Consul server',
  ...CONSUL_SERVER_FAULT,
  apply: async (step, context) => {
    const { followers } = await consulServers(context);
    const follower = followers[step.pick % followers.length];
    if (!follower) throw new Error('no Consul follower');
    return killConsulServer(context, follower, 'Consul follower');
  },
};
