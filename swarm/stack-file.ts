import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';

/**
 * Turns `docker compose config --format json` (docker-compose.yml merged with
 * docker-compose.swarm.yml) into a file `docker stack deploy` accepts. Compose
 * writes a few things Swarm's loader refuses or must not see, and an override
 * file cannot remove them:
 * - the top-level `name` and the `x-` anchors (the stack's name is its own);
 * - per-service `profiles` (a stack deploys every service it is given) and
 *   `build` (Swarm runs images; `make swarm-up` builds them first);
 * - published ports as strings (Swarm wants numbers), and the nulls its JSON
 *   writes for what is not set (`entrypoint: null`: Swarm wants a string);
 * - the project-prefixed `name` of networks, volumes, secrets and configs,
 *   so that Swarm prefixes them with the stack's name instead.
 */
type Mapping = Record<string, unknown>;

const isMapping = (value: unknown): value is Mapping => typeof value === 'object' && value !== null && !Array.isArray(value);

export function toStackFile(composeConfig: Mapping): Mapping {
  const stack: Mapping = {};
  for (const [key, value] of Object.entries(composeConfig)) {
    if (key === 'name' || key.startsWith('x-')) continue;
    stack[key] =
      key === 'services'
        ? mapValues(value, toSwarmService)
        : ['networks', 'volumes', 'secrets', 'configs'].includes(key)
          ? mapValues(value, withoutName)
          : value;
  }
  return stack;
}

function mapValues(section: unknown, change: (entry: Mapping) => Mapping): Mapping {
  if (!isMapping(section)) return {};
  return Object.fromEntries(Object.entries(section).map(([name, entry]) => [name, isMapping(entry) ? change(entry) : entry]));
}

const without = (entry: Mapping, keys: readonly string[]): Mapping =>
  Object.fromEntries(Object.entries(entry).filter(([key, value]) => !keys.includes(key) && value !== null));

const withoutName = (entry: Mapping): Mapping => without(entry, ['name']);

function toSwarmService(service: Mapping): Mapping {
  const rest = without(service, ['profiles', 'build']);
  // A network joined with no options is null in compose's JSON, {} for Swarm.
  if (isMapping(rest.networks))
    rest.networks = Object.fromEntries(Object.entries(rest.networks).map(([name, options]) => [name, options ?? {}]));
  if (Array.isArray(rest.ports)) {
    rest.ports = rest.ports.map((port: unknown) =>
      isMapping(port) && typeof port.published === 'string' ? { ...port, published: Number(port.published) } : port,
    );
  }
  return rest;
}

// As a program: compose's JSON on stdin, the stack file (YAML) on stdout.
if (import.meta.url === `file://${process.argv[1]}`) {
  const input = readFileSync(0, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(input);
  } catch {
    process.stderr.write('error: [swarm] docker compose config did not give JSON on stdin\n');
    process.exit(2);
  }
  if (!isMapping(parsed)) {
    process.stderr.write('error: [swarm] docker compose config gave JSON that is not a mapping\n');
    process.exit(2);
  }
  process.stdout.write(stringify(toStackFile(parsed)));
}
