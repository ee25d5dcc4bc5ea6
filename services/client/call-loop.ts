import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { HelloServiceClient } from '../../packages/contracts/hello.js';
import { greeting, INSTANCE_ID_METADATA_KEY } from '../../packages/contracts/hello.js';
import type { CallStats } from './call-stats.js';

/**
 * Calls SayHello at a steady rate with bounded concurrency and judges every
 * answer: the sum must be right and the greeting must name the caller and the
 * instance that the response metadata says served it.
 */
export interface CallLoopOptions {
  /** The channel's client the calls go through. */
  readonly client: HelloServiceClient;
  /** Where every answer's verdict is counted. */
  readonly stats: CallStats;
  readonly logger: Logger;
  readonly ratePerSecond: number;
  readonly concurrency: number;
  readonly deadlineMs: number;
  readonly namePrefix: string;
  /**
   * Calls wait (up to their deadline) for an instance while none is up,
   * instead of failing at once: all instances replaced at the same moment
   * then cost callers time, not errors.
   */
  readonly waitForReady: boolean;
}

// Operands stay small enough that their sum never overflows int32.
const OPERAND_LIMIT = 1_000_000;
const TICK_MS = 5;

function randomOperand(): number {
  return Math.floor(Math.random() * (2 * OPERAND_LIMIT + 1)) - OPERAND_LIMIT;
}

export class CallLoop {
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private issued = 0;
  private startedAt = 0;
  private drained: (() => void) | undefined;

  constructor(private readonly options: CallLoopOptions) {}

  start(): void {
    this.startedAt = performance.now();
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /**
   * Stops issuing calls and resolves once the calls in flight have ended, or
   * after `graceMs`: calls waiting for an instance that will not come (every
   * server stopped too) should not hold a shutdown for their whole deadline.
   */
  stop(graceMs = 1_000): Promise<void> {
    clearInterval(this.timer);
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      this.drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private tick(): void {
    const due = Math.floor(((performance.now() - this.startedAt) / 1_000) * this.options.ratePerSecond);
    // A backlog longer than a second is dropped, not burst: the rate stays honest.
    if (due - this.issued > this.options.ratePerSecond) this.issued = due - this.options.ratePerSecond;
    while (this.issued < due && this.inFlight < this.options.concurrency) {
      this.issued += 1;
      this.callOnce(this.issued);
    }
  }

  private callOnce(sequence: number): void {
    const request = { name: `${this.options.namePrefix}-${sequence}`, num1: randomOperand(), num2: randomOperand() };
    const started = performance.now();
    const deadline = Date.now() + this.options.deadlineMs;
    this.inFlight += 1;
    this.attempt(sequence, request, started, deadline, undefined);
  }

  /**
   * One SayHello. gRPC's retry policy retries an UNAVAILABLE call only until
   * the response headers arrived; an instance killed between sending its
   * headers and its trailers fails the call although another instance could
   * answer it (measured: about 1 call in 40 SIGKILLs at 300 calls/s).
   * SayHello is idempotent, so such a call is tried once more, within the
   * same deadline; when that answer is correct it counts as `recovered` in
   * /stats (and as ok), so the cut is seen, not hidden.
   */
  private attempt(
    sequence: number,
    request: { name: string; num1: number; num2: number },
    started: number,
    deadline: number,
    cut: { readonly instance: string; readonly details: string } | undefined,
  ): void {
    let instanceId = '';
    const call = this.options.client.SayHello(
      request,
      new grpc.Metadata({ waitForReady: this.options.waitForReady }),
      { deadline },
      (error, response) => {
        const latencyMs = performance.now() - started;
        if (error && !cut && error.code === grpc.status.UNAVAILABLE && instanceId !== '' && Date.now() < deadline) {
          this.options.logger.info(
            { sequence, instance: instanceId, details: error.details },
            'call cut after its headers: trying it once more',
          );
          this.attempt(sequence, request, started, deadline, { instance: instanceId, details: error.details });
          return;
        }
        this.inFlight -= 1;
        if (error) {
          const code = grpc.status[error.code] ?? String(error.code);
          this.options.stats.recordFailure(code, error.details, latencyMs, instanceId || undefined);
          // Failures are rare and are what this demo is about: always worth a line.
          this.options.logger.warn({ sequence, code, details: error.details, latencyMs, instance: instanceId || undefined }, 'call FAILED');
        } else {
          const problem = this.judge(request, instanceId, response);
          if (problem) {
            this.options.stats.recordWrong(instanceId || 'unknown', problem, latencyMs);
            this.options.logger.warn({ sequence, request, response, instanceId, problem }, 'WRONG answer');
          } else {
            if (cut) this.options.stats.recordRecovered(cut.instance, cut.details);
            this.options.stats.recordOk(instanceId, latencyMs);
            this.options.logger.debug({ sequence, instance: instanceId, result: response?.result, latencyMs }, 'call ok');
          }
        }
        if (this.inFlight === 0) this.drained?.();
      },
    );
    call.on('metadata', (metadata: grpc.Metadata) => {
      instanceId = String(metadata.get(INSTANCE_ID_METADATA_KEY)[0] ?? '');
    });
  }

  private judge(
    request: { name: string; num1: number; num2: number },
    instanceId: string,
    response: { message: string; result: number } | undefined,
  ): string | undefined {
    if (!response) return 'empty response';
    if (!instanceId) return `no ${INSTANCE_ID_METADATA_KEY} in response metadata`;
    if (response.result !== request.num1 + request.num2) return `result ${response.result} != ${request.num1} + ${request.num2}`;
    const expectedPrefix = greeting(request.name, { id: instanceId, address: '', port: 0 }).split(' at ')[0] ?? '';
    if (!response.message.startsWith(`${expectedPrefix} at `))
      return `message ${JSON.stringify(response.message)} does not name caller and instance`;
    return undefined;
  }
}
