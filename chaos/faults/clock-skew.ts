import { z } from 'zod';
import { FAKETIME_MOUNT, FAKETIME_PRELOAD, ignoreGone, type TargetContainer } from '../docker/docker-driver.js';
import { allOf, containerIs, type ReadBack } from '../engine/read-back.js';
import { lastsItsDuration } from './action-fields.js';
import { boundedInstanceSchema, oneInstanceKind } from './one-instance.js';

const OFFSET = 'an offset of the clock such as "+10m" or "-2d" (s, m, h or d), at most 365d';
const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 };
/** How far a read clock may be from now + offset: the exec's own time and a second's rounding. */
const CLOCK_SLACK_S = 5;

/**
 * One instance's clock `offset` off for `duration`: it is stopped (a
 * graceful drain) and a copy of it started on its address and port with
 * libfaketime preloaded (from the netfault image, through a volume), so every
 * clock the copy reads is off while its timers (the monotonic clock) run
 * true. What it touches: the TLS certificates it checks (a clock days early
 * is before Consul's certificate was made), anything it stamps. Consul's TTL
 * is Consul's clock. Undone by removing the copy and its volume and starting
 * the instance again.
 */
const schema = boundedInstanceSchema('clock-skew', {
  offset: z
    .string({ error: OFFSET })
    .regex(/^[+-]\d+[smhd]$/, OFFSET)
    .refine((offset) => Math.abs(offsetSeconds(offset)) <= 365 * 86_400, OFFSET)
    .default('+10m'),
});

function offsetSeconds(offset: string): number {
  const amount = Number(offset.slice(0, -1));
  return amount * (UNIT_SECONDS[offset.slice(-1)] ?? 1);
}

export const clockSkew = oneInstanceKind(schema, {
  describe: (action) => `skew ${action.target} instance's clock by ${action.offset} for ${action.duration} ms`,
  lastsMs: lastsItsDuration,
  runsOn: { compose: true, swarm: false },
  faultOn: (victim, { action }, { driver }) => {
    const volume = `${victim.name}-faketime`;
    let skewed: TargetContainer | undefined;
    const skewedClock: ReadBack = async () => {
      if (!skewed) return { observed: 'no skewed copy started', ok: false };
      const read = await driver.clockOf(skewed);
      const off = read - Math.round(Date.now() / 1_000);
      return {
        observed: `${skewed.name}'s clock ${off >= 0 ? '+' : ''}${off} s off`,
        ok: Math.abs(off - offsetSeconds(action.offset)) <= CLOCK_SLACK_S,
      };
    };
    return {
      act: async () => {
        await driver.faketimeVolume(volume);
        await driver.stop(victim, 10_000);
        skewed = await driver.startLike(victim, victim.port, {
          env: [`LD_PRELOAD=${FAKETIME_PRELOAD}`, `FAKETIME=${action.offset}`, 'FAKETIME_DONT_FAKE_MONOTONIC=1'],
          mounts: [{ Type: 'volume', Source: volume, Target: FAKETIME_MOUNT, ReadOnly: true }],
        });
      },
      detail: `${victim.name} (${victim.ip}:${victim.port}) stopped, a copy started on its port with its clock ${action.offset} off (libfaketime)`,
      proof: allOf([containerIs(driver, victim, 'down'), skewedClock]),
      undo: {
        description: `remove ${victim.name}'s skewed copy and start it again`,
        run: async () => {
          if (skewed) await driver.remove(skewed).catch(ignoreGone);
          await driver.removeVolume(volume);
          await driver.start(victim);
        },
        // Built when read: the copy is known only once the fault has acted.
        proof: () =>
          allOf([
            containerIs(driver, victim, 'running'),
            skewed ? containerIs(driver, skewed, 'gone') : async () => ({ observed: 'no copy was started', ok: true }),
          ])(),
      },
    };
  },
});
