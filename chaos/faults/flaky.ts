import { z } from 'zod';
import { grayFaultKind, grayFaultSchema } from './gray-fault-kind.js';

/** A `ratio` of calls answered with `code`. */
const schema = grayFaultSchema('flaky', {
  ratio: z.number().min(0).max(1).default(0.5),
  code: z.enum(['UNAVAILABLE', 'INTERNAL']).default('UNAVAILABLE'),
});

export const flaky = grayFaultKind(schema, {
  describe: (action) =>
    `make ${action.target} instance answer ${Math.round(action.ratio * 100)} % of calls ${action.code} for ${action.duration} ms`,
  grayFault: (action) => ({ kind: 'flaky', ratio: action.ratio, code: action.code }),
});
