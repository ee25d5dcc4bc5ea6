import * as grpc from '@grpc/grpc-js';
import type { HelloServiceHandlers } from '../lib/hello-proto.js';

/**
 * Who is answering: goes into every greeting and into response metadata. The
 * address is read at each call, so a greeting names the address the instance
 * is registered at now.
 */
export interface InstanceIdentity {
  readonly id: string;
  readonly address: string;
  readonly port: number;
}

export const INSTANCE_ID_METADATA_KEY = 'x-instance-id';
export const MAX_NAME_BYTES = 256;
export const DEFAULT_NAME = 'stranger';
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

export function greeting(name: string, instance: InstanceIdentity): string {
  return `Hello ${name}, from ${instance.id} at ${instance.address}:${instance.port}`;
}

/** SayHello: a greeting naming caller and instance, and num1 + num2 checked for int32 overflow. */
export function sayHelloHandler(instance: InstanceIdentity, handlerDelayMs = 0): HelloServiceHandlers['SayHello'] {
  return (call, callback) => {
    const { name, num1, num2 } = call.request;
    if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: `name is longer than ${MAX_NAME_BYTES} bytes` });
      return;
    }
    const sum = num1 + num2;
    if (sum < INT32_MIN || sum > INT32_MAX) {
      callback({ code: grpc.status.OUT_OF_RANGE, details: `${num1} + ${num2} does not fit in int32` });
      return;
    }
    const reply = (): void => {
      // Headers go out with the answer, not when the call arrives: a client
      // treats a call whose headers it has seen as committed and will not
      // retry it elsewhere, so early headers would defeat failover for calls
      // caught in flight by a frozen or draining instance.
      const metadata = new grpc.Metadata();
      metadata.set(INSTANCE_ID_METADATA_KEY, instance.id);
      call.sendMetadata(metadata);
      callback(null, { message: greeting(name || DEFAULT_NAME, instance), result: sum });
    };
    // A configurable handler time lets the demo show draining of in-flight calls.
    if (handlerDelayMs > 0) setTimeout(reply, handlerDelayMs);
    else reply();
  };
}
