import { ConsulConfigError } from '@grpc-consul-lab/consul-discovery';
import { ScenarioError } from './scenario/load-scenario.js';

/**
 * Input `make chaos` cannot run with: a flag, a scenario or journal file, a
 * stack that lacks what a step needs. The CLI prints its message as one line
 * and exits 2, before anything changed.
 */
export class BadInput extends Error {}

/** Errors that mean bad input: their own, a scenario file's, Consul's settings'. */
const BAD_INPUT = [BadInput, ScenarioError, ConsulConfigError];

/** main()'s end on an error: bad input is one line, `chaos: …`, and exit code 2; any other error is thrown on. */
export function badInputExit(error: unknown): number {
  if (!BAD_INPUT.some((kind) => error instanceof kind)) throw error;
  process.stderr.write(`chaos: ${(error as Error).message}\n`);
  return 2;
}
