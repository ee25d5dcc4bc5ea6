import * as grpc from '@grpc/grpc-js';

/**
 * The resolver's trace, through grpc-js's own tracing: shown with
 * `GRPC_TRACE=consul_resolver GRPC_VERBOSITY=DEBUG` (or `GRPC_TRACE=all`), in
 * grpc-js's format and beside its built-in `dns_resolver`, so one switch
 * shows what the channel and the resolver each did. Silent otherwise.
 */
export const TRACER_NAME = 'consul_resolver';

export function trace(text: string): void {
  grpc.experimental.trace(grpc.logVerbosity.DEBUG, TRACER_NAME, text);
}
