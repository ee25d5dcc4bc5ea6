import { grayFaultKind, grayFaultSchema } from './gray-fault-kind.js';

/** Health NOT_SERVING while calls are still answered: Consul takes it out. */
const schema = grayFaultSchema('unhealthy', {});

export const unhealthy = grayFaultKind(schema, {
  describe: (action) => `make ${action.target} instance report NOT_SERVING (still answering) for ${action.duration} ms`,
  grayFault: () => ({ kind: 'unhealthy' }),
});
