import Docker from 'dockerode';
import { DockerComposeEnvironment, type StartedDockerComposeEnvironment, Wait } from 'testcontainers';
import { DockerDriver } from '../../chaos/docker/docker-driver.js';
import { composeScope } from '../../chaos/docker/labels.js';
import type { Journal } from '../../chaos/engine/journal.js';
import { runScenario } from '../../chaos/engine/runner.js';
import { loadScenario } from '../../chaos/scenario/load-scenario.js';
import { sweep } from './docker-sweep.js';
import { baseImages, ROOT } from './lab-cluster.js';

/**
 * `make up`'s own docker-compose.yml, brought up through testcontainers'
 * compose support under a project name of its own and with ephemeral host
 * ports, so it never collides with a running demo.
 */
export class ComposeStack {
  readonly driver: DockerDriver;

  private constructor(
    readonly project: string,
    private readonly environment: StartedDockerComposeEnvironment,
  ) {
    this.driver = new DockerDriver(composeScope(project));
  }

  static async start(project: string, environment: Record<string, string> = {}): Promise<ComposeStack> {
    try {
      const started = await new DockerComposeEnvironment(ROOT, 'docker-compose.yml')
        .withProjectName(project)
        .withBuild()
        .withEnvironment({ ...baseImages(), CONSUL_UI_PORT: '0', CLIENT_STATS_PORT: '0', ...environment })
        .withWaitStrategy('client-1', Wait.forHealthCheck())
        .withStartupTimeout(180_000)
        .up();
      return new ComposeStack(project, started);
    } catch (error) {
      await sweep(project);
      throw error;
    }
  }

  get statsUrl(): string {
    const client = this.environment.getContainer('client-1');
    return `http://${client.getHost()}:${client.getMappedPort(9464)}`;
  }

  /** Read afresh: a restarted container gets a new host port, which testcontainers does not know. */
  async consulUrl(): Promise<string> {
    return hostUrlOf(this.environment.getContainer('consul-1').getId(), 8500);
  }

  /** A shipped scenario against this stack, as `make chaos SCENARIO=<name> SEED=<seed>` runs it against make up's. */
  async runShippedScenario(name: string, seed: number): Promise<Journal> {
    const { scenario, file } = loadScenario(name);
    return runScenario({
      scenario,
      file,
      seed,
      driver: this.driver,
      statsUrl: this.statsUrl,
      consulUrl: await this.consulUrl(),
      log: () => undefined,
      status: () => undefined,
    });
  }

  async down(): Promise<void> {
    await this.environment.down({ timeout: 5_000, removeVolumes: true }).catch(() => undefined);
    // The chaos runner's replacements are not in the compose file: the sweep finds them by label.
    await sweep(this.project);
  }
}

/** http://localhost:<host port> of a container's published port, as Docker has it now. */
export async function hostUrlOf(containerId: string, port: number): Promise<string> {
  const info = await new Docker().getContainer(containerId).inspect();
  const hostPort = info.NetworkSettings.Ports[`${port}/tcp`]?.[0]?.HostPort;
  if (!hostPort) throw new Error(`container ${info.Name} publishes no port ${port}`);
  return `http://localhost:${hostPort}`;
}
