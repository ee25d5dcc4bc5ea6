import Docker from 'dockerode';

/**
 * Removes everything an e2e run created, found by label, so nothing is left
 * behind even when a test failed half way (there is no Ryuk offline).
 */
export const E2E_PROJECT_PREFIX = 'gcl-e2e-';
const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
/** Containers of the testcontainers runs (and the chaos runner's replacements of them) carry this. */
const E2E_RUN_LABEL = 'grpc-consul-lab.e2e-run';

export interface Leftovers {
  readonly containers: string[];
  readonly networks: string[];
  readonly images: string[];
}

const docker = new Docker();

function isOurs(project: string | undefined, only?: string): boolean {
  return project !== undefined && (only ? project === only : project.startsWith(E2E_PROJECT_PREFIX));
}

/**
 * What e2e runs left on the engine; `project` narrows it to one run. A run's
 * name starts with gcl-e2e- and names its compose project, or its containers'
 * e2e-run label, its network and its image tags.
 */
export async function findLeftovers(project?: string): Promise<Leftovers> {
  const containers = (await docker.listContainers({ all: true })).filter(
    (c) => isOurs(c.Labels[COMPOSE_PROJECT_LABEL], project) || isOurs(c.Labels[E2E_RUN_LABEL], project),
  );
  const networks = (await docker.listNetworks()).filter(
    (n) =>
      isOurs(n.Labels?.[COMPOSE_PROJECT_LABEL], project) ||
      isOurs(n.Name, project) ||
      (project !== undefined && n.Name.startsWith(`${project}-`)),
  );
  const images = (await docker.listImages()).flatMap((image) =>
    (image.RepoTags ?? []).filter((tag) => (project ? tag.startsWith(`${project}-`) : tag.startsWith(E2E_PROJECT_PREFIX))),
  );
  return {
    containers: containers.map((c) => c.Names[0]?.replace(/^\//, '') ?? c.Id),
    networks: networks.map((n) => n.Name),
    images,
  };
}

/** Removes the containers, networks and image tags of one run (or of all runs). */
export async function sweep(project?: string): Promise<void> {
  const found = await findLeftovers(project);
  await Promise.all(
    found.containers.map((name) =>
      docker
        .getContainer(name)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  await Promise.all(
    found.networks.map((name) =>
      docker
        .getNetwork(name)
        .remove()
        .catch(() => undefined),
    ),
  );
  for (const tag of found.images)
    await docker
      .getImage(tag)
      .remove({ force: true })
      .catch(() => undefined);
}
