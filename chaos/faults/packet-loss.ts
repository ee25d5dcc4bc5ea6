import { z } from 'zod';
import { packetsLost } from '../engine/read-back.js';
import { lastsItsDuration } from './action-fields.js';
import { boundedInstanceSchema, oneInstanceKind } from './one-instance.js';

const PROBABILITY = 'a probability of losing each packet, above 0 and at most 1, such as 0.3';

/**
 * Each packet in and out of one instance dropped with `probability` for
 * `duration`, by iptables in its network namespace (it keeps its address and
 * keeps running): TCP retransmits, so calls should come late rather than fail, until
 * the loss is heavy enough for keepalive to give up on the connection.
 */
const schema = boundedInstanceSchema('packet-loss', {
  probability: z.number({ error: PROBABILITY }).gt(0, PROBABILITY).max(1, PROBABILITY).default(0.3),
});

export const packetLoss = oneInstanceKind(schema, {
  describe: (action) => `drop each packet of ${action.target} instance with probability ${action.probability} for ${action.duration} ms`,
  lastsMs: lastsItsDuration,
  runsOn: { compose: true, swarm: true },
  faultOn: (victim, { action }, { driver }) => ({
    act: () => driver.losePackets(victim, action.probability),
    detail: `dropping each packet of ${victim.name} (${victim.ip}:${victim.port}) with probability ${action.probability}`,
    proof: packetsLost(driver, victim, action.probability),
    undo: {
      description: `stop losing ${victim.name}'s packets`,
      run: () => driver.stopLosingPackets(victim),
      proof: packetsLost(driver, victim, undefined),
    },
  }),
});
