import { readFileSync } from 'node:fs';
import { type ConsulDevAgent, freePort } from '@grpc-consul-lab/consul-discovery/testing';
import * as grpc from '@grpc/grpc-js';
import { HelloProcess } from '../../services/local/hello-process.js';
import { passingIds } from '../../packages/testing/consul-queries.js';
import { eventually } from '../../packages/testing/eventually.js';
import { type InProcessClient, type InProcessClientOptions, startClient } from '../../services/client/in-process-client.js';
import { helloTlsEnv, type TestCertificates } from '../../packages/testing/test-certificates.js';
import { instanceIdOf } from '@grpc-consul-lab/consul-discovery';

/**
 * What the benches measure on: real hello server processes registered in a
 * real Consul agent, and the real client in the bench's own process (its
 * counters read directly), over mutual TLS as in the compose stack.
 */

export interface ProcessClusterOptions {
  readonly consul: ConsulDevAgent;
  readonly certificates: TestCertificates;
  /** More environment for every server (default: none). */
  readonly serverEnv?: Record<string, string>;
  /** Mutual TLS between the client and the servers, as in the compose stack (default: on); false: plaintext. */
  readonly tls?: boolean;
}

export class ProcessCluster {
  readonly servers: HelloProcess[] = [];
  client!: InProcessClient;
  readonly consul: ConsulDevAgent;
  readonly tls: boolean;
  private readonly certificates: TestCertificates;
  private readonly serverEnv: Record<string, string>;

  constructor({ consul, certificates, serverEnv = {}, tls = true }: ProcessClusterOptions) {
    this.consul = consul;
    this.certificates = certificates;
    this.serverEnv = serverEnv;
    this.tls = tls;
  }

  /** The client's side of mutual TLS with the test certificates. */
  clientCredentials(): grpc.ChannelCredentials {
    const read = (path: string): Buffer => readFileSync(path);
    return grpc.credentials.createSsl(read(this.certificates.ca), read(this.certificates.client.key), read(this.certificates.client.cert));
  }

  /** The client, in this process, over mutual TLS when the cluster has it. */
  startClient(options: Omit<InProcessClientOptions, 'consulAddress'>): void {
    this.client = startClient({
      ...options,
      consulAddress: this.consul.address,
      more: { ...(this.tls && { credentials: this.clientCredentials() }), ...options.more },
    });
  }

  async addServer(): Promise<HelloProcess> {
    const server = HelloProcess.start({
      port: await freePort(),
      consulAddress: this.consul.address,
      env: { GRPC_CHECK_INTERVAL_MS: '1000', ...(this.tls && helloTlsEnv(this.certificates)), ...this.serverEnv },
    });
    this.servers.push(server);
    return server;
  }

  live(): HelloProcess[] {
    return this.servers.filter((server) => !server.exited);
  }

  private liveIds(): string {
    return this.live()
      .map((server) => server.instanceId)
      .sort()
      .join();
  }

  async passingAreLive(): Promise<boolean> {
    return eventually(async () => (await passingIds(this.consul.address)).join() === this.liveIds(), 15_000);
  }

  resolvedIds(): string[] {
    return this.client.stats.snapshot().resolvedInstances.map(instanceIdOf);
  }

  /** Consul passes exactly the live instances and the client resolves exactly those. */
  async settled(): Promise<boolean> {
    return eventually(
      async () => (await passingIds(this.consul.address)).join() === this.liveIds() && this.resolvedIds().sort().join() === this.liveIds(),
      15_000,
    );
  }

  async dispose(): Promise<void> {
    await this.client?.stop();
    await Promise.all(this.servers.map((server) => server.dispose()));
  }
}
