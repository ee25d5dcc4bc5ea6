import { grayFaultKind, grayFaultSchema } from './gray-fault-kind.js';

/** Wrong sums: the client must count every one wrong. */
const schema = grayFaultSchema('corrupt', {});

export const corrupt = grayFaultKind(schema, {
  describe: (action) => `make ${action.target} instance answer wrong sums for ${action.duration} ms`,
  grayFault: () => ({ kind: 'corrupt' }),
});
