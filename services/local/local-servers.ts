import type { Logger } from 'pino';
import { HelloProcess } from './hello-process.js';

export interface LocalServersOptions {
  /** One server on each. */
  readonly ports: readonly number[];
  readonly consulAddress: string;
  /** The servers' LOG_FORMAT. */
  readonly logFormat: string;
  /** How often the simulator stops every server; 0: never. */
  readonly faultEveryMs: number;
  /** How far each restart moves a server's port. */
  readonly portStep: number;
  readonly logger: Logger;
}

/**
 * `make local`'s servers, with the seed's fault simulator: every
 * `faultEveryMs` it stops every server (SIGTERM: each drains) and, once all
 * have exited, starts each again on its port + `portStep`.
 */
export class LocalServers {
  private servers: HelloProcess[];
  private round = 0;
  private stopping = false;
  /** The round in progress: its servers are stopping, and it starts their successors unless we are stopping too. */
  private roundInProgress: Promise<void> | undefined;
  private readonly simulator: NodeJS.Timeout | undefined;

  constructor(private readonly options: LocalServersOptions) {
    this.servers = options.ports.map((port) => this.startServer(port));
    this.simulator = options.faultEveryMs > 0 ? setInterval(() => this.stopAndMoveAll(), options.faultEveryMs) : undefined;
  }

  /** Ends the fault simulator: waits for a round in progress, which then starts nothing new. */
  async stopFaults(): Promise<void> {
    this.stopping = true;
    clearInterval(this.simulator);
    await this.roundInProgress;
  }

  /** Stops every server (SIGTERM) and resolves once all have exited. */
  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map(async (server) => {
        server.signal('SIGTERM');
        await server.waitForExit();
      }),
    );
  }

  private startServer(port: number): HelloProcess {
    const { consulAddress, logFormat } = this.options;
    return HelloProcess.start({ port, consulAddress, inheritOutput: true, detached: true, env: { LOG_FORMAT: logFormat } });
  }

  private stopAndMoveAll(): void {
    if (this.roundInProgress || this.stopping) return;
    this.round += 1;
    const moved = this.servers.map((server) => server.port + this.options.portStep);
    this.options.logger.warn(
      { round: this.round, stopping: this.servers.map((s) => s.port), restartingOn: moved },
      'fault simulator: stopping every server',
    );
    const stopped = this.servers;
    for (const server of stopped) server.signal('SIGTERM');
    this.roundInProgress = Promise.all(stopped.map((server) => server.waitForExit()))
      .then(() => {
        // Ctrl-C during the round: nothing new starts, so nothing is left running.
        if (!this.stopping) this.servers = moved.map((port) => this.startServer(port));
      })
      .finally(() => {
        this.roundInProgress = undefined;
      });
  }
}
