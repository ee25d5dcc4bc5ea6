import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';

/**
 * Measures this instance's HelloService load and hands it to grpc-js's
 * ServerMetricRecorder, which streams it to clients over ORCA's out-of-band
 * service; their weighted_round_robin weighs each instance by
 * qps / (utilization + eps / qps).
 *
 * Utilization is the mean number of calls in flight over a window (0.5 s, as often as
 * the clients ask for reports) (busy
 * time / window, Little's law: qps x mean latency). An instance that answers
 * 300 ms late carries ~150x the utilization of one that answers in 2 ms at
 * the same qps, so its weight is ~150x lower: a slow instance loses its share
 * of calls without any client measuring latency. Errors per second count
 * against the weight too (a flaky instance answers fast, but mostly wrongly).
 *
 * A window without an answered call reports qps 0, from which the client
 * makes no weight: the last one stands until it lapses (the client's
 * weight_expiration_period), then the instance is probed at the mean weight.
 * The recorder re-sends the last figures it was given at every report, so
 * keeping an old window's figures would keep a stale weight fresh forever
 * (measured: a recovered instance starved for over a minute).
 */
export interface LoadReporterOptions {
  /** Method paths counted: `/hello.HelloService/` (health checks and ORCA itself are not load). */
  readonly pathPrefix: string;
  readonly windowMs?: number;
  /** Where the figures go; grpc.ServerMetricRecorder in the server. */
  readonly recorder: Pick<grpc.ServerMetricRecorder, 'setApplicationUtilizationMetric' | 'setQpsMetric' | 'setEpsMetric'>;
  readonly now?: () => number;
}

export interface LoadFigures {
  readonly qps: number;
  readonly eps: number;
  readonly utilization: number;
}

export class LoadReporter {
  private readonly windowMs: number;
  private readonly now: () => number;
  private inFlight = 0;
  private busyMs = 0;
  private lastChangeAt: number;
  private completed = 0;
  private failed = 0;
  private windowStartedAt: number;
  private timer: NodeJS.Timeout | undefined;
  private latest: LoadFigures | undefined;

  constructor(private readonly options: LoadReporterOptions) {
    this.windowMs = options.windowMs ?? 500;
    this.now = options.now ?? (() => performance.now());
    this.lastChangeAt = this.now();
    this.windowStartedAt = this.lastChangeAt;
  }

  /** The interceptor that sees each call's start and status; add it to the server's options. */
  readonly interceptor: grpc.ServerInterceptor = (method, call) => {
    if (!method.path.startsWith(this.options.pathPrefix)) return new grpc.ServerInterceptingCall(call);
    // Counted from the call's metadata (grpc-js delivers it only once the call
    // really started: a call cancelled before that never calls back, and would
    // stay in flight for good), to its status or its cancellation, once.
    let started = false;
    let ended = false;
    const end = (ok: boolean): void => {
      if (!started || ended) return;
      ended = true;
      this.callEnded({ ok });
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, proceed) => {
            started = true;
            this.callStarted();
            proceed(metadata);
          },
          onCancel: () => end(false),
        });
      },
      sendStatus: (status, next) => {
        end(status.code === grpc.status.OK);
        next(status);
      },
    });
  };

  /** Closes a window and reports it, every windowMs until stop(). */
  start(): void {
    this.timer ??= setInterval(() => this.closeWindow(), this.windowMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The figures last reported (undefined before the first window closed). */
  get figures(): LoadFigures | undefined {
    return this.latest;
  }

  /** Exposed for tests; the timer calls it. */
  closeWindow(): void {
    const now = this.now();
    this.accrue(now);
    const seconds = (now - this.windowStartedAt) / 1_000;
    const busyMs = this.busyMs;
    const completed = this.completed;
    const failed = this.failed;
    this.busyMs = 0;
    this.completed = 0;
    this.failed = 0;
    this.windowStartedAt = now;
    if (seconds <= 0) return;
    const figures = { qps: completed / seconds, eps: failed / seconds, utilization: busyMs / 1_000 / seconds };
    this.latest = figures;
    this.options.recorder.setQpsMetric(figures.qps);
    this.options.recorder.setEpsMetric(figures.eps);
    this.options.recorder.setApplicationUtilizationMetric(figures.utilization);
  }

  /** A call arrived (the interceptor calls this; so can a test). */
  callStarted(): void {
    this.accrue(this.now());
    this.inFlight += 1;
  }

  /** A call was answered, OK or not, or cancelled (not OK). */
  callEnded({ ok }: { readonly ok: boolean }): void {
    this.accrue(this.now());
    this.inFlight -= 1;
    this.completed += 1;
    if (!ok) this.failed += 1;
  }

  /** Busy time is the integral of calls in flight over time. */
  private accrue(now: number): void {
    this.busyMs += this.inFlight * (now - this.lastChangeAt);
    this.lastChangeAt = now;
  }
}
