import { mkdirSync, writeFileSync } from 'node:fs';
import Docker from 'dockerode';
import { COMPOSE_PROJECT_LABEL, ROLE_LABEL } from '../chaos/docker/labels.js';
import { printTable } from './support/table.js';

/**
 * `make bench-idle`: what a running stack costs at rest (by default `make up`'s,
 * project grpc-consul-lab; PROJECT=... for another). Reads each container's CPU
 * time and memory from the engine at the start and end of a window
 * (WINDOW_S, default 60 s) and prints CPU as % of one core and memory per
 * container, the mean per hello instance and the stack's total. Healthchecks
 * run inside their container's cgroup, so their cost is in these figures.
 * "At rest" means what the stack does by itself: the client calling at its
 * CALL_RATE, heartbeats, checks, load reports; nothing else should run.
 */
const project = process.env.PROJECT ?? 'grpc-consul-lab';
const windowMs = Number(process.env.WINDOW_S ?? 60) * 1_000;

interface Reading {
  readonly name: string;
  readonly role: string;
  readonly cpuNs: number;
  readonly memoryBytes: number;
  readonly anonBytes: number;
}

interface Cost {
  readonly name: string;
  readonly role: string;
  readonly cpuPercentOfCore: number;
  readonly memoryMiB: number;
  readonly anonMiB: number;
}

interface EngineStats {
  cpu_stats: { cpu_usage: { total_usage: number } };
  memory_stats: { usage?: number; stats?: Record<string, number> };
}

/**
 * Memory as `docker stats` shows it: usage less the page cache that can be
 * dropped. It still counts active page cache, which the kernel charges to the
 * first container that read a file (the image's node_modules, shared by all).
 */
function memoryInUse(stats: EngineStats['memory_stats']): number {
  const cache = stats.stats?.total_inactive_file ?? stats.stats?.inactive_file ?? 0;
  return Math.max(0, (stats.usage ?? 0) - cache);
}

/** The container's own memory, no page cache: anonymous pages (cgroup v1 `rss`, v2 `anon`). */
function anonymousMemory(stats: EngineStats['memory_stats']): number {
  return stats.stats?.total_rss ?? stats.stats?.rss ?? stats.stats?.anon ?? 0;
}

async function readAll(docker: Docker): Promise<Map<string, Reading>> {
  const containers = await docker.listContainers({ filters: { label: [`${COMPOSE_PROJECT_LABEL}=${project}`], status: ['running'] } });
  const readings = await Promise.all(
    containers.map(async (info): Promise<Reading> => {
      const stats = (await docker.getContainer(info.Id).stats({ stream: false })) as unknown as EngineStats;
      return {
        name: (info.Names[0] ?? info.Id).replace(/^\//, ''),
        role: info.Labels[ROLE_LABEL] ?? '?',
        cpuNs: stats.cpu_stats.cpu_usage.total_usage,
        memoryBytes: memoryInUse(stats.memory_stats),
        anonBytes: anonymousMemory(stats.memory_stats),
      };
    }),
  );
  return new Map(readings.map((reading) => [reading.name, reading]));
}

async function main(): Promise<void> {
  if (!Number.isFinite(windowMs) || windowMs < 5_000) {
    console.error(`error: [bench-idle] WINDOW_S must be a number of seconds >= 5 (got "${process.env.WINDOW_S}")`);
    process.exit(2);
  }
  const docker = new Docker();
  const start = await readAll(docker);
  if (start.size === 0) {
    console.error(`error: [bench-idle] no running container of compose project "${project}"; start one first: make up`);
    process.exit(2);
  }
  const startedAt = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const end = await readAll(docker);
  const elapsedNs = Number(process.hrtime.bigint() - startedAt);
  const costs: Cost[] = [...end.values()]
    .filter((reading) => start.has(reading.name))
    .map((reading) => ({
      name: reading.name,
      role: reading.role,
      cpuPercentOfCore: ((reading.cpuNs - (start.get(reading.name)?.cpuNs ?? 0)) / elapsedNs) * 100,
      memoryMiB: reading.memoryBytes / 2 ** 20,
      anonMiB: reading.anonBytes / 2 ** 20,
    }))
    .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  const hello = costs.filter((cost) => cost.role === 'hello');
  const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
  const total = (pick: (cost: Cost) => number): number => costs.reduce((sum, cost) => sum + pick(cost), 0);
  const row = (name: string, role: string, cpu: number, memory: number, anon: number): string[] => [
    name,
    role,
    cpu.toFixed(2),
    memory.toFixed(1),
    anon.toFixed(1),
  ];
  console.log(
    `\nAt rest, project ${project}, over ${(elapsedNs / 1e9).toFixed(0)} s (CPU: % of one core; memory in use and its anonymous part, MiB)\n`,
  );
  const meanOf = (pick: (cost: Cost) => number): number => mean(hello.map(pick));
  printTable(
    ['container', 'role', 'CPU %', 'memory MiB', 'anonymous MiB'],
    [
      ...costs.map((cost) => row(cost.name, cost.role, cost.cpuPercentOfCore, cost.memoryMiB, cost.anonMiB)),
      row(
        `mean per hello instance (${hello.length})`,
        'hello',
        meanOf((cost) => cost.cpuPercentOfCore),
        meanOf((cost) => cost.memoryMiB),
        meanOf((cost) => cost.anonMiB),
      ),
      row(
        'whole stack',
        '',
        total((cost) => cost.cpuPercentOfCore),
        total((cost) => cost.memoryMiB),
        total((cost) => cost.anonMiB),
      ),
    ],
  );
  mkdirSync('reports/bench', { recursive: true });
  writeFileSync(
    'reports/bench/idle-cost.json',
    JSON.stringify({ project, windowMs: elapsedNs / 1e6, at: new Date().toISOString(), costs }, null, 2),
  );
}

await main();
