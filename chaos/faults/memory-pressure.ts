import { describeMemory, mib } from '../docker/resource-limits.js';
import { memoryLimited, memoryRestored } from '../engine/read-back.js';
import { size } from '../scenario/size.js';
import { lastsItsDuration } from './action-fields.js';
import { boundedInstanceSchema, oneInstanceKind } from './one-instance.js';

/**
 * One instance's memory limit lowered to `memory`, swap included, for
 * `duration` (docker update). A HelloService instance's cgroup charges
 * about 35-40 MiB resident plus page cache, up to 48 MiB at 200 calls/s,
 * under the 256m of docker-compose.yml; runc refuses a limit below what is
 * charged at that moment (seen: 48m against 47.8 MiB). The default, 64m,
 * leaves it its working set and little else: the kernel reclaims its page
 * cache, and the OOM killer ends it if it needs more. The undo sets its limit and
 * swap back as they were, and starts it again if it was ended.
 */
const schema = boundedInstanceSchema('memory-pressure', { memory: size.prefault('64m') });

export const memoryPressure = oneInstanceKind(schema, {
  describe: (action) => `squeeze ${action.target} instance into ${mib(action.memory)} of memory for ${action.duration} ms`,
  lastsMs: lastsItsDuration,
  // Swarm would replace a task the OOM killer ended, and the undo could not start it again.
  runsOn: { compose: true, swarm: false },
  faultOn: async (victim, { action }, { driver }) => {
    const original = await driver.limits(victim);
    // Checked before anything changes: the step fails in one line, the container untouched.
    if (original.memory === 0) {
      throw new Error(
        `memory-pressure: ${victim.name} has no memory limit, and docker update cannot take one away again: it could not be undone`,
      );
    }
    if (action.memory >= original.memory) {
      throw new Error(`memory-pressure: ${mib(action.memory)} is no pressure on ${victim.name}, whose limit is ${mib(original.memory)}`);
    }
    let ended = '';
    return {
      act: async () => {
        try {
          await driver.updateLimits(victim, { Memory: action.memory, MemorySwap: action.memory });
        } catch (error) {
          // cgroup v1 refuses a limit it cannot reclaim down to (EBUSY); v2 reclaims, then OOM-kills.
          const usage = await driver.memoryUsage(victim).then(mib, () => 'an amount not read');
          const why = (error as Error).message.split('\n')[0];
          throw new Error(
            `memory-pressure: Docker refused ${mib(action.memory)} for ${victim.name} (it uses ${usage}, its limit ${mib(original.memory)}): ${why}`,
          );
        }
      },
      detail: `${victim.name} (${victim.ip}:${victim.port}) limited to ${mib(action.memory)}, swap included, from ${describeMemory(original)}`,
      proof: memoryLimited(driver, victim, action.memory),
      undo: {
        description: `give ${victim.name} its memory limit back, and start it again if it was ended`,
        run: async () => {
          // OOMKilled holds until the container starts again: read it first.
          const { oomKilled } = await driver.limits(victim);
          const { state } = await driver.describe(victim.containerId);
          await driver.updateLimits(victim, { Memory: original.memory, MemorySwap: original.memorySwap });
          if (state === 'running') return;
          ended = `; it was ${oomKilled ? 'OOM-killed' : state} under ${mib(action.memory)}, and started again`;
          await driver.start(victim);
        },
        proof: memoryRestored(driver, victim, original, () => ended),
      },
    };
  },
});
