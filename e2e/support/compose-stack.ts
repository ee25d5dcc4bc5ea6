import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { ConsulHttp } from '@grpc-consul-lab/consul-discovery';
import Docker from 'dockerode';
import { freePort } from '@grpc-consul-lab/consul-discovery/testing';
import {
  DockerComposeEnvironment,
  GenericContainer,
  type StartedDockerComposeEnvironment,
  type StartedTestContainer,
  Wait,
} from 'testcontainers';
import { chosenImages } from '../../chaos/docker/chosen-images.js';
import { DockerDriver, execOutput } from '../../chaos/docker/docker-driver.js';
import { CONSUL_DATA_DIR } from '../../chaos/faults/consul-servers.js';
import { COMPOSE_PROJECT_LABEL, composeScope, ROLE_LABEL } from '../../chaos/docker/labels.js';
import type { Journal } from '../../chaos/engine/journal.js';
import { runScenario } from '../../chaos/engine/runner.js';
import { loadScenario } from '../../chaos/scenario/load-scenario.js';
import type { Scenario } from '../../chaos/scenario/schema.js';
import { demuxLogs, ROOT } from './paths.js';
import { sweep } from './docker-sweep.js';
import { HELLO_SERVICE_NAME } from '../../packages/contracts/hello.js';

/**
 * `make up`'s own docker-compose.yml (the secure stack: Consul with TLS and
 * ACLs, the bootstrap job, hardened containers, mutual TLS), brought up
 * through testcontainers under a project name of its own, with ephemeral
 * ports on 127.0.0.1, so it never collides with a running demo. Its secrets
 * are the ones `make` wrote into .secrets/. The chaos runner's scope is the
 * compose project, as with `make chaos`.
 */
export interface StackOptions {
  /** Compose variables: CALL_RATE, HELLO_REPLICAS, CONSUL_DATA_SIZE (which adds docker-compose.consul-data-size.yml)... */
  readonly env?: Record<string, string>;
  /** 'ha': three Consul servers, as `make up PROFILE=ha`; 'multi-dc': two datacenters, as `make up PROFILE=multi-dc`. */
  readonly profile?: StackProfile;
}

const PROFILES = ['single', 'ha', 'multi-dc'] as const;
export type StackProfile = (typeof PROFILES)[number];

/** A profile's Compose variables, from the file the Makefile includes (profiles/<profile>.env). */
function variablesOf(profile: StackProfile): Record<string, string> {
  const lines = readFileSync(`${ROOT}/profiles/${profile}.env`, 'utf8').split('\n');
  const assignments = lines.filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line));
  return Object.fromEntries(assignments.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

/**
 * The profile's variables, every other profile's emptied: a `make test
 * PROFILE=ha` exports ha's into this process, and they must not leak into
 * stacks of another profile (docker-compose.yml reads an empty one as unset).
 */
function profileVariables(profile: StackProfile): Record<string, string> {
  const emptied = PROFILES.flatMap((other) => Object.keys(variablesOf(other)).map((name) => [name, '']));
  return { ...Object.fromEntries(emptied), ...variablesOf(profile) };
}

/** The ACL tokens `make` writes into .secrets/, by file name; 'anonymous' for none. */
export type LabToken = 'chaos-runner' | 'management' | 'hello-client' | 'hello-server' | 'ui-read' | 'anonymous';

/** A Consul client of a lab stack from the host, over HTTPS with our CA and `token`: one server's address, or every server's. */
export function labConsul(address: string | string[], token: LabToken, requestTimeoutMs?: number): ConsulHttp {
  return new ConsulHttp({
    address,
    tls: { caFile: `${ROOT}/.secrets/ca.pem` },
    ...(token !== 'anonymous' && { tokenFile: `${ROOT}/.secrets/${token}.token` }),
    ...(requestTimeoutMs !== undefined && { requestTimeoutMs }),
    env: {},
  });
}

let subnets = 0;

export class ComposeStack {
  readonly driver: DockerDriver;
  private readonly docker = new Docker();

  private constructor(
    readonly project: string,
    private readonly environment: StartedDockerComposeEnvironment,
  ) {
    this.driver = new DockerDriver(composeScope(project));
  }

  static async start(project: string, options: StackOptions = {}): Promise<ComposeStack> {
    const profile = options.profile ?? 'single';
    // A subnet of its own (make up's is 10.77.0): stacks of one run may live side by side.
    subnets += 1;
    const labNet = `10.77.${((process.pid + subnets * 7) % 230) + 20}`;
    try {
      // CONSUL_DATA_SIZE: Consul's data on sized volumes, as make up CONSUL_DATA_SIZE=... adds the same file.
      const files = ['docker-compose.yml', ...(options.env?.CONSUL_DATA_SIZE ? ['docker-compose.consul-data-size.yml'] : [])];
      const started = await new DockerComposeEnvironment(ROOT, files)
        .withProjectName(project)
        .withBuild()
        .withEnvironment({
          ...chosenImages(),
          PROFILE: profile,
          ...profileVariables(profile),
          LAB_NET: labNet,
          // Fixed for the stack's life, as make up's are: a Consul server a fault restarts keeps its
          // host port, so the chaos runner's Consul client (made once, for the run) still reaches it.
          CONSUL_UI_PORT: String(await freePort()),
          CONSUL_2_PORT: String(await freePort()),
          CONSUL_3_PORT: String(await freePort()),
          CONSUL_DC2_PORT: String(await freePort()),
          CLIENT_STATS_PORT: '0',
          PUBLISH_ADDRESS: '127.0.0.1',
          ...options.env,
        })
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

  /** The image compose built for a service of this project. */
  imageOf(service: 'hello' | 'client'): string {
    return `${this.project}-${service}`;
  }

  get network(): string {
    return `${this.project}_default`;
  }

  /** Consul's HTTPS port on 127.0.0.1 (the first server's), as Docker publishes it (fixed for the stack's life). */
  async consulUrl(): Promise<string> {
    const [first] = await this.consulUrls();
    if (!first) throw new Error(`no published Consul port in ${this.project}`);
    return first;
  }

  /** Every running Consul server's HTTPS port on 127.0.0.1, the first server's first. */
  async consulUrls(): Promise<string[]> {
    return (await this.consulServers()).map((server) => server.url);
  }

  /** Every running Consul server: its container's name and its HTTPS port on 127.0.0.1; by name. */
  async consulServers(): Promise<{ readonly name: string; readonly url: string }[]> {
    const servers = await this.docker.listContainers({
      filters: { label: [`${COMPOSE_PROJECT_LABEL}=${this.project}`, `${ROLE_LABEL}=consul`] },
    });
    return servers
      .map((server) => ({ server, name: server.Names[0]?.replace(/^\//, '') ?? server.Id }))
      .sort((a, b) => a.name.localeCompare(b.name))
      .flatMap(({ server, name }) =>
        server.Ports.filter((p) => p.PrivatePort === 8501 && p.PublicPort).map((p) => ({ name, url: `https://127.0.0.1:${p.PublicPort}` })),
      );
  }

  /** Consul's API from the host over HTTPS (every server), with the chaos runner's read token, as `make chaos` reaches it. */
  async consulApi(token: LabToken = 'chaos-runner'): Promise<ConsulHttp> {
    return labConsul(await this.consulUrls(), token);
  }

  /** Each running Consul server's node id, as its data directory holds it (`node-id`): a server that lost its state makes a new one. */
  async consulNodeIds(): Promise<Record<string, string>> {
    const ids: Record<string, string> = {};
    for (const { name } of await this.consulServers()) {
      ids[name] = await execOutput(this.docker.getContainer(name), ['cat', `${CONSUL_DATA_DIR}/node-id`]);
    }
    return ids;
  }

  /** Ids of the instances passing in Consul now. */
  async passingInstanceIds(): Promise<string[]> {
    const consul = await this.consulApi();
    try {
      return (await consul.healthService({ service: HELLO_SERVICE_NAME })).instances.map((i) => i.id).sort();
    } finally {
      consul.close();
    }
  }

  /**
   * A container that looks like a hello instance and lives in this project,
   * but lacks the chaos-target label: the runner must leave it alone.
   */
  async startDecoy(): Promise<StartedTestContainer> {
    return new GenericContainer(this.imageOf('hello'))
      .withName(`${this.project}-decoy`)
      .withEntrypoint(['sleep', 'infinity'])
      .withLabels({ [ROLE_LABEL]: 'hello', [COMPOSE_PROJECT_LABEL]: this.project })
      .withNetworkMode(this.network)
      .start();
  }

  /** A shipped scenario against this stack, as `make chaos SCENARIO=<name> SEED=<seed>` runs it against make up's. */
  async runShippedScenario(name: string, seed: number): Promise<Journal> {
    const { scenario, file } = loadScenario(name);
    return this.runParsedScenario(scenario, file, seed);
  }

  /** A scenario against this stack through the runner, with the chaos runner's token, as `make chaos` runs one. */
  async runParsedScenario(scenario: Scenario, file: string, seed: number): Promise<Journal> {
    const consul = await this.consulApi();
    try {
      return await runScenario({
        scenario,
        file,
        seed,
        driver: this.driver,
        statsUrl: this.statsUrl,
        consul,
        log: () => undefined,
        status: () => undefined,
      });
    } finally {
      consul.close();
    }
  }

  /** Saves every container's log of this project under reports/e2e/<name>/, for a failed scenario. */
  async saveLogs(name: string): Promise<string> {
    const dir = `${ROOT}/reports/e2e/${name}`;
    mkdirSync(dir, { recursive: true });
    for (const info of await this.docker.listContainers({ all: true, filters: { label: [`${COMPOSE_PROJECT_LABEL}=${this.project}`] } })) {
      const logs = await this.docker.getContainer(info.Id).logs({ stdout: true, stderr: true, timestamps: true });
      writeFileSync(`${dir}/${info.Names[0]?.replace(/^\//, '') ?? info.Id}.log`, demuxLogs(logs));
    }
    return dir;
  }

  async down(): Promise<void> {
    await this.environment.down({ timeout: 5_000, removeVolumes: true }).catch(() => undefined);
    // The chaos runner's replacements and the decoy are not in the compose file: the sweep finds them by label.
    await sweep(this.project);
  }
}

let counter = 0;
/** A name for one run's compose project: the suite's sweep finds everything by its prefix. */
export function newProjectName(what: string): string {
  counter += 1;
  return `gcl-e2e-${what}-${process.pid}-${counter}`;
}
