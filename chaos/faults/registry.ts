import type { ActionSchema, FaultKind } from './fault-kind.js';
import { clockSkew } from './clock-skew.js';
import { consulQuorumLoss } from './consul-quorum-loss.js';
import { corrupt } from './corrupt.js';
import { cpuStarve } from './cpu-starve.js';
import { disconnect } from './disconnect.js';
import { diskFull } from './disk-full.js';
import { emptyDatacenter } from './empty-datacenter.js';
import { flaky } from './flaky.js';
import { kill } from './kill.js';
import { killConsulFollower } from './kill-consul-follower.js';
import { killConsulLeader } from './kill-consul-leader.js';
import { loseDatacenter } from './lose-datacenter.js';
import { memoryPressure } from './memory-pressure.js';
import { bandwidthFault, blackholeFault, latencyFault, resetPeerFault } from './network-toxics.js';
import { packetLoss } from './packet-loss.js';
import { partition } from './partition.js';
import { partitionDatacenter } from './partition-datacenter.js';
import { pause } from './pause.js';
import { replace } from './replace.js';
import { replaceAll } from './replace-all.js';
import { reschedule } from './reschedule.js';
import { restartConsul } from './restart-consul.js';
import { scale } from './scale.js';
import { slow } from './slow.js';
import { stop } from './stop.js';
import { unhealthy } from './unhealthy.js';

/**
 * Every fault kind, by the name a scenario writes in `action:`. The scenario
 * schema, the planner, the preconditions and the runner read a kind from
 * here and nowhere else. The order is the one a bad `action:` lists the
 * kinds in, and the order of the kinds a precondition's message names.
 */
export const FAULT_KINDS = byName({
  kill,
  stop,
  reschedule,
  replace,
  pause,
  partition,
  disconnect,
  latency: latencyFault,
  bandwidth: bandwidthFault,
  'packet-loss': packetLoss,
  'reset-peer': resetPeerFault,
  blackhole: blackholeFault,
  'cpu-starve': cpuStarve,
  'memory-pressure': memoryPressure,
  'clock-skew': clockSkew,
  'restart-consul': restartConsul,
  'disk-full': diskFull,
  slow,
  flaky,
  corrupt,
  unhealthy,
  'kill-consul-leader': killConsulLeader,
  'kill-consul-follower': killConsulFollower,
  'consul-quorum-loss': consulQuorumLoss,
  scale,
  'replace-all': replaceAll,
  'lose-datacenter': loseDatacenter,
  'partition-datacenter': partitionDatacenter,
  'empty-datacenter': emptyDatacenter,
});

export type FaultName = keyof typeof FAULT_KINDS;

export const FAULT_NAMES = Object.keys(FAULT_KINDS) as FaultName[];

/** A table whose every entry is filed under the name its schema's `action` accepts: a typo in a key does not compile. */
function byName<Table extends { readonly [Name in keyof Table]: FaultKind<ActionSchema<Name & string>> }>(table: Table): Table {
  return table;
}

/**
 * The module of an action's kind, to be handed that same action. The table
 * is filed by name (byName), so the module a name finds takes actions of that
 * name; TypeScript cannot follow that from a union of actions, hence the
 * widening to the common FaultKind.
 */
export function faultKindOf(action: { readonly action: FaultName }): FaultKind {
  return FAULT_KINDS[action.action];
}
