import { duration } from '../scenario/duration.js';
import { grayFaultKind, grayFaultSchema } from './gray-fault-kind.js';

/** Every answer `delay` late, give or take `delayJitter`. */
const schema = grayFaultSchema('slow', { delay: duration.prefault('300ms'), delayJitter: duration.prefault('0ms') });

export const slow = grayFaultKind(schema, {
  describe: (action) =>
    `slow ${action.target} instance by ${action.delay} ms${action.delayJitter > 0 ? ` ± ${action.delayJitter} ms` : ''} for ${action.duration} ms`,
  grayFault: (action) => ({ kind: 'slow', delayMs: action.delay, jitterMs: action.delayJitter }),
});
