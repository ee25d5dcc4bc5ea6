import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Clock, pollUntil } from './poll.js';

/** A clock that moves only when a poll sleeps: the tests below take no time. */
function manualClock(): Clock & { slept: number[] } {
  let now = 1_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

test('a poll returns the first answer that is not undefined, having slept everyMs between answers', async () => {
  const clock = manualClock();
  const answers = [undefined, undefined, 'it'];
  const answer = await pollUntil(() => answers.shift(), { timeoutMs: 10_000, everyMs: 250, clock });
  assert.equal(answer, 'it');
  assert.deepEqual(clock.slept, [250, 250]);
});

test('a poll that never gets its answer returns undefined at the deadline, its last pause cut to end there, and asks once more there', async () => {
  const clock = manualClock();
  let asked = 0;
  const answer = await pollUntil(
    () => {
      asked += 1;
      return undefined;
    },
    { timeoutMs: 600, everyMs: 250, clock },
  );
  assert.equal(answer, undefined);
  assert.deepEqual(clock.slept, [250, 250, 100]);
  assert.equal(asked, 4);
});

test('a poll asks at least once, also with no time at all; false and 0 are answers', async () => {
  const clock = manualClock();
  assert.equal(await pollUntil(() => false, { timeoutMs: 0, everyMs: 250, clock }), false);
  assert.equal(await pollUntil(() => 0, { timeoutMs: 0, everyMs: 250, clock }), 0);
  assert.deepEqual(clock.slept, []);
});

test("a probe that throws ends the poll with its error: whether it means 'not yet' is the caller's to say", async () => {
  const clock = manualClock();
  await assert.rejects(
    pollUntil(
      () => {
        throw new Error('refused');
      },
      { timeoutMs: 1_000, everyMs: 250, clock },
    ),
    /refused/,
  );
});
