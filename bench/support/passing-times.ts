import { HELLO_SERVICE_NAME } from '../../packages/contracts/hello.js';

/**
 * When Consul first listed each instance as passing, from a blocking query
 * of the bench's own with no pause between answers: the earliest moment a
 * client could know, to time the client's own watch against. (Polling every
 * few milliseconds would be late by up to its interval plus a request.)
 */
export class PassingTimes {
  private readonly firstPassingAt = new Map<string, number>();
  private readonly controller = new AbortController();

  private constructor(
    private readonly consulAddress: string,
    private readonly service: string,
  ) {}

  static start(consulAddress: string, service = HELLO_SERVICE_NAME): PassingTimes {
    const watch = new PassingTimes(consulAddress, service);
    void watch.run();
    return watch;
  }

  /** Epoch ms of the answer that first listed `instanceId` as passing; undefined while none has. */
  at(instanceId: string): number | undefined {
    return this.firstPassingAt.get(instanceId);
  }

  stop(): void {
    this.controller.abort();
  }

  private async run(): Promise<void> {
    let index = 0;
    while (!this.controller.signal.aborted) {
      try {
        const url = `http://${this.consulAddress}/v1/health/service/${this.service}?passing=true${index > 0 ? `&index=${index}&wait=30s` : ''}`;
        const response = await fetch(url, { signal: this.controller.signal });
        const at = Date.now();
        const body = (await response.json()) as { Service: { ID: string } }[];
        index = Number(response.headers.get('x-consul-index') ?? 0);
        for (const entry of body) if (!this.firstPassingAt.has(entry.Service.ID)) this.firstPassingAt.set(entry.Service.ID, at);
      } catch {
        // Aborted at the end, or Consul not answering: ask again from the start.
        index = 0;
        if (!this.controller.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}
