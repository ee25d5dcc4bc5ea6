import { z } from 'zod';
import type { DockerDriver, SizedVolume, TargetContainer } from '../docker/docker-driver.js';
import type { ReadBack } from '../engine/read-back.js';
import { duration } from '../scenario/duration.js';
import { lastsItsDuration, timing } from './action-fields.js';
import { CONSUL_DATA_DIR, preferredConsulServer } from './consul-servers.js';
import type { FaultKind } from './fault-kind.js';
import { holdThenAct } from './one-instance.js';

/** The file that fills it: one name, so the undo removes what the fault wrote and nothing of Consul's. */
const FILLER = '.chaos-disk-full';
const MiB = 2 ** 20;

const schema = z.object({ action: z.literal('disk-full'), duration: duration.prefault('20s'), ...timing }).strict();

/**
 * The data directory of the preferred datacenter's Consul server full for
 * `duration`: a file of zeros written into it until its filesystem has no
 * byte left, then removed. Only a directory on a sized volume of the stack
 * (make up CONSUL_DATA_SIZE=64m: a tmpfs of 16m to 1g) is filled, so the
 * fault can never fill this machine's disk, nor more of its memory than that;
 * any other is refused before anything changes, and the helper checks the
 * filesystem it was given again before it writes (DockerDriver.onVolume). What fails
 * then is whatever Consul writes to disk: it keeps serving reads, but a
 * heartbeat it takes answers 500 (it persists the check's state after
 * updating it) and a new registration is refused (docs/chaos.md has what
 * was observed).
 */
export const diskFull: FaultKind<typeof schema> = {
  schema,
  describe: (action) => `fill the Consul server's data directory for ${action.duration} ms`,
  lastsMs: lastsItsDuration,
  runsOn: { compose: true, swarm: false },
  needs: ['consul-container', 'sized-consul-data'],
  apply: async (_step, context) => {
    const { driver } = context;
    const server = await preferredConsulServer(context);
    const volume = await driver.sizedVolumeAt(server, CONSUL_DATA_DIR);
    if (!volume) throw new Error(notSized(server));
    return holdThenAct(context, server, server.name, {
      act: () => driver.fillVolume(volume, FILLER),
      detail: `${server.name}'s data directory (${CONSUL_DATA_DIR}, volume ${volume.name}, ${mib(volume.sizeBytes)}) filled to its last byte`,
      proof: dataDirectory(driver, server, volume, 'full'),
      undo: {
        description: `empty ${server.name}'s data directory again`,
        run: () => driver.removeFromVolume(volume, FILLER),
        proof: dataDirectory(driver, server, volume, 'free'),
      },
    });
  },
};

/** The line a stack without a sized data directory gets: what is wrong and how to get one. */
export function notSized(server: Pick<TargetContainer, 'name'>): string {
  return `disk-full fills only a data directory on a sized volume of this stack, so that it cannot fill this machine's disk or memory; ${server.name}'s ${CONSUL_DATA_DIR} is not on one (make up CONSUL_DATA_SIZE=64m)`;
}

/** Full: no byte free and the filler there. Free: the filler gone and room again. */
function dataDirectory(driver: DockerDriver, server: TargetContainer, volume: SizedVolume, expected: 'full' | 'free'): ReadBack {
  return async () => {
    const space = await driver.volumeSpace(volume, FILLER);
    const observed = `${server.name}'s data directory: ${mib(space.availableBytes)} of ${mib(space.totalBytes)} free, ${
      space.fileBytes > 0 ? `the filler takes ${mib(space.fileBytes)}` : 'no filler'
    }`;
    const ok = expected === 'full' ? space.availableBytes === 0 && space.fileBytes > 0 : space.availableBytes > 0 && space.fileBytes === 0;
    return { observed, ok };
  };
}

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;
