import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { GenericContainer, Network, type StartedNetwork, type StartedTestContainer, Wait } from 'testcontainers';
import { DockerDriver } from '../../chaos/docker/docker-driver.js';
import { CHAOS_TARGET_LABEL, E2E_RUN_LABEL, e2eScope, ROLE_LABEL } from '../../chaos/docker/labels.js';
import { hostUrlOf } from './compose-stack.js';
import { E2E_PROJECT_PREFIX, sweep } from './docker-sweep.js';

/**
 * One e2e cluster as testcontainers containers: Consul, 3 hello instances and
 * the client, on a network of their own, all labelled with the run's id so
 * the chaos runner may touch them and the sweep finds them.
 */
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface BuiltImages {
  readonly hello: string;
  readonly client: string;
  readonly consul: string;
}

export function baseImages(): Record<string, string> {
  // scripts/ensure-images.sh records the base images this machine uses in .env.
  return Object.fromEntries(
    readFileSync(`${ROOT}/.env`, 'utf8')
      .split('\n')
      .map((line) => /^([A-Z_]+)=(.*)$/.exec(line.trim()))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => [match[1] as string, match[2] as string]),
  );
}

/** Builds the two images from our Dockerfiles through testcontainers (classic builder, no pulls). */
export async function buildImages(runId: string): Promise<BuiltImages> {
  const { NODE_IMAGE = '', CONSUL_IMAGE = '' } = baseImages();
  const build = async (dockerfile: string, name: string): Promise<string> => {
    const tag = `${runId}-${name}:e2e`;
    await GenericContainer.fromDockerfile(ROOT, dockerfile).withBuildArgs({ NODE_IMAGE }).build(tag, { deleteOnExit: false });
    return tag;
  };
  return { hello: await build('Dockerfile.server', 'hello'), client: await build('Dockerfile.client', 'client'), consul: CONSUL_IMAGE };
}

export class LabCluster {
  readonly driver: DockerDriver;
  private constructor(
    readonly runId: string,
    readonly network: StartedNetwork,
    readonly consul: StartedTestContainer,
    readonly client: StartedTestContainer,
  ) {
    this.driver = new DockerDriver(e2eScope(runId));
  }

  static async start(runId: string, images: BuiltImages, helloCount = 3, clientEnv: Record<string, string> = {}): Promise<LabCluster> {
    const labels = (role: string): Record<string, string> => ({ [CHAOS_TARGET_LABEL]: 'true', [ROLE_LABEL]: role, [E2E_RUN_LABEL]: runId });
    const network = await new Network({ nextUuid: () => `${runId}-net` }).start();
    const consul = await new GenericContainer(images.consul)
      .withName(`${runId}-consul`)
      .withCommand(['agent', '-dev', '-client', '0.0.0.0', '-log-level', 'warn'])
      .withNetwork(network)
      .withNetworkAliases('consul')
      .withLabels(labels('consul'))
      .withExposedPorts(8500)
      .withHealthCheck({ test: ['CMD', 'consul', 'members'], interval: 1_000, timeout: 3_000, retries: 30 })
      .withWaitStrategy(Wait.forHttp('/v1/status/leader', 8500).forResponsePredicate((body) => body.length > 4))
      .start();
    for (let i = 1; i <= helloCount; i += 1) {
      await new GenericContainer(images.hello)
        .withName(`${runId}-hello-${i}`)
        .withEnvironment({ CONSUL_HTTP_ADDR: 'consul:8500', PORT: '50051' })
        .withNetwork(network)
        .withNetworkAliases('hello')
        .withLabels(labels('hello'))
        .withWaitStrategy(Wait.forHealthCheck())
        .withStartupTimeout(60_000)
        .start();
    }
    const client = await new GenericContainer(images.client)
      .withName(`${runId}-client`)
      .withEnvironment({ CONSUL_HTTP_ADDR: 'consul:8500', CALL_RATE: '50', ...clientEnv })
      .withNetwork(network)
      .withLabels({ [ROLE_LABEL]: 'client', [E2E_RUN_LABEL]: runId })
      .withExposedPorts(9464)
      .withWaitStrategy(Wait.forHttp('/healthz', 9464))
      .start();
    return new LabCluster(runId, network, consul, client);
  }

  get statsUrl(): string {
    return `http://${this.client.getHost()}:${this.client.getMappedPort(9464)}`;
  }

  /** Read afresh: a restarted container gets a new host port, which testcontainers does not know. */
  async consulUrl(): Promise<string> {
    return hostUrlOf(this.consul.getId(), 8500);
  }

  async passingInstanceIds(): Promise<string[]> {
    const response = await fetch(`${await this.consulUrl()}/v1/health/service/HelloService?passing=true`);
    return ((await response.json()) as { Service: { ID: string } }[]).map((entry) => entry.Service.ID).sort();
  }

  /** Saves every container's log of this run under reports/e2e/<name>/, for a failed scenario. */
  async saveLogs(name: string): Promise<string> {
    const dir = `${ROOT}/reports/e2e/${name}`;
    mkdirSync(dir, { recursive: true });
    const docker = new Docker();
    for (const info of await docker.listContainers({ all: true, filters: { label: [`${E2E_RUN_LABEL}=${this.runId}`] } })) {
      const logs = await docker.getContainer(info.Id).logs({ stdout: true, stderr: true, timestamps: true });
      writeFileSync(`${dir}/${info.Names[0]?.replace(/^\//, '') ?? info.Id}.log`, demuxLogs(logs));
    }
    return dir;
  }

  /** Removes the run's containers (replacements included) and its network. */
  async destroy(): Promise<void> {
    await sweep(this.runId);
  }
}

/**
 * A container's log as text. Without a TTY, Docker sends stdout and stderr as
 * frames: an 8-byte header (stream, 3 zero bytes, big-endian length), then the bytes.
 */
export function demuxLogs(raw: Buffer): string {
  const parts: Buffer[] = [];
  for (let offset = 0; offset + 8 <= raw.length;) {
    const length = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return Buffer.concat(parts).toString('utf8');
}

let counter = 0;
export function newRunId(scenario: string): string {
  counter += 1;
  return `${E2E_PROJECT_PREFIX}${scenario}-${process.pid}-${counter}`;
}
