import * as grpc from '@grpc/grpc-js';
import type { GrayFault } from '../../packages/contracts/gray-fault.js';
import { greeting, type HelloServiceHandlers, INSTANCE_ID_METADATA_KEY, type InstanceIdentity } from '../../packages/contracts/hello.js';

export const MAX_NAME_BYTES = 256;
export const DEFAULT_NAME = 'stranger';
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

export interface SayHelloOptions {
  /** Every answer this late: lets the demo show draining of calls in flight. */
  readonly handlerDelayMs?: number;
  /** The gray fault in force now, asked at each call (see GrayFaultWatch). */
  readonly grayFault?: () => GrayFault | undefined;
}

/** SayHello: a greeting naming caller and instance, and num1 + num2 checked for int32 overflow. */
export function sayHelloHandler(instance: InstanceIdentity, options: SayHelloOptions = {}): HelloServiceHandlers['SayHello'] {
  return (call, callback) => {
    const fault = options.grayFault?.();
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
      if (fault?.kind === 'flaky' && Math.random() < fault.ratio) {
        callback({ code: grpc.status[fault.code], details: `gray fault on ${instance.id}: flaky`, metadata });
        return;
      }
      call.sendMetadata(metadata);
      // Corrupt: off by one, and still an int32.
      const result = fault?.kind === 'corrupt' ? (sum === INT32_MAX ? sum - 1 : sum + 1) : sum;
      callback(null, { message: greeting(name || DEFAULT_NAME, instance), result });
    };
    const delayMs = (options.handlerDelayMs ?? 0) + (fault?.kind === 'slow' ? slowDelayMs(fault.delayMs, fault.jitterMs) : 0);
    if (delayMs > 0) setTimeout(reply, delayMs);
    else reply();
  };
}

/** delay ± jitter, uniformly, never below 0. */
function slowDelayMs(delayMs: number, jitterMs: number): number {
  return Math.max(0, Math.round(delayMs + (Math.random() * 2 - 1) * jitterMs));
}
