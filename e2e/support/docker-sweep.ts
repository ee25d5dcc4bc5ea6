import Docker from 'dockerode';

/**
 * Removes everything an e2e run created, found by label and name, so nothing
 * is left behind even when a test failed half way (there is no Ryuk offline).
 * A run's name starts with gcl-e2e-: it is a compose project (or a Swarm
 * stack), and its containers, networks, volumes and image tags carry it.
 */
export const E2E_PROJECT_PREFIX = 'gcl-e2e-';
const RUN_LABELS = ['com.docker.compose.project', 'com.docker.stack.namespace'];

export interface Leftovers {
  readonly containers: string[];
  readonly networks: string[];
  readonly volumes: string[];
  readonly images: string[];
}

const docker = new Docker();

function isOurs(name: string | undefined, only?: string): boolean {
  return name !== undefined && (only ? name === only || name.startsWith(`${only}_`) : name.startsWith(E2E_PROJECT_PREFIX));
}

const labelled = (labels: Record<string, string> | null | undefined, only?: string): boolean =>
  RUN_LABELS.some((label) => isOurs(labels?.[label], only));

/** What e2e runs left on the engine; `project` narrows it to one run. */
export async function findLeftovers(project?: string): Promise<Leftovers> {
  const containers = (await docker.listContainers({ all: true })).filter((c) => labelled(c.Labels, project));
  const networks = (await docker.listNetworks()).filter((n) => labelled(n.Labels, project) || isOurs(n.Name, project));
  const volumes = ((await docker.listVolumes()).Volumes ?? []).filter((v) => labelled(v.Labels, project) || isOurs(v.Name, project));
  const images = (await docker.listImages()).flatMap((image) =>
    // compose names a run's images <project>-<service>; a swarm stack's are <stack>/<service>.
    (image.RepoTags ?? []).filter((tag) =>
      project ? tag.startsWith(`${project}-`) || tag.startsWith(`${project}/`) : tag.startsWith(E2E_PROJECT_PREFIX),
    ),
  );
  return {
    containers: containers.map((c) => c.Names[0]?.replace(/^\//, '') ?? c.Id),
    networks: networks.map((n) => n.Name),
    volumes: volumes.map((v) => v.Name),
    images,
  };
}

/** Removes the containers, networks, volumes and image tags of one run (or of all runs). */
export async function sweep(project?: string): Promise<void> {
  const found = await findLeftovers(project);
  const quietly = (): undefined => undefined;
  await Promise.all(found.containers.map((name) => docker.getContainer(name).remove({ force: true, v: true }).catch(quietly)));
  await Promise.all(found.networks.map((name) => docker.getNetwork(name).remove().catch(quietly)));
  await Promise.all(found.volumes.map((name) => docker.getVolume(name).remove().catch(quietly)));
  for (const tag of found.images) await docker.getImage(tag).remove({ force: true }).catch(quietly);
}
