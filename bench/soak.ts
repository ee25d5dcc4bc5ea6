import { mkdirSync, writeFileSync } from 'node:fs';
import Docker from 'dockerode';
import { COMPOSE_PROJECT_LABEL, ROLE_LABEL } from '../chaos/docker/labels.js';
import { ComposeStack, newProjectName } from '../e2e/support/compose-stack.js';
import { deltaOf } from '../e2e/support/judge.js';

/**
 * `make soak`: the soak scenario (ten minutes of mixed faults, gray ones
 * included) on one compose stack at 200 calls/s, and what it cost: calls,
 * failed, wrong, recovered, and the memory of the client and of the servers
 * at the start and at the end. Measured, not asserted; the goals are printed
 * beside the figures, and everything goes to reports/bench/soak.json.
 */
const docker = new Docker();
const SEED = Number(process.env.SEED ?? 1);

/** Memory a container holds, as `docker stats` counts it: usage without the inactive page cache. */
async function memoryMiB(containerId: string): Promise<number> {
  const stats = (await docker.getContainer(containerId).stats({ stream: false })) as unknown as {
    memory_stats: { usage?: number; stats?: { inactive_file?: number; total_inactive_file?: number } };
  };
  const { usage = 0, stats: detail = {} } = stats.memory_stats;
  return (usage - (detail.inactive_file ?? detail.total_inactive_file ?? 0)) / 2 ** 20;
}

async function memoryByRole(project: string): Promise<{ client: number; servers: number[] }> {
  const running = await docker.listContainers({ filters: { label: [`${COMPOSE_PROJECT_LABEL}=${project}`] } });
  const of = (role: string) => running.filter((container) => container.Labels[ROLE_LABEL] === role);
  const [client] = of('client');
  return {
    client: client ? await memoryMiB(client.Id) : Number.NaN,
    servers: await Promise.all(of('hello').map((container) => memoryMiB(container.Id))),
  };
}

const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
const stack = await ComposeStack.start(newProjectName('soak'), { env: { CALL_RATE: '200' } });
try {
  // A minute of warm-up, so the start figures are those of a steady program, not of one starting.
  await new Promise((resolve) => setTimeout(resolve, 60_000));
  const start = await memoryByRole(stack.project);
  const startedAt = Date.now();
  const journal = await stack.runShippedScenario('soak', SEED);
  const end = await memoryByRole(stack.project);
  const delta = deltaOf(journal);
  const okShare = delta.calls === 0 ? 0 : (delta.calls - delta.failed - delta.wrong) / delta.calls;
  const clientGrowth = (end.client - start.client) / start.client;
  const faults = journal.actions.reduce<Record<string, number>>((counts, action) => {
    const key = `${action.kind} ${action.outcome}`;
    counts[key] = (counts[key] ?? 0) + 1;
    return counts;
  }, {});
  const result = {
    seed: SEED,
    minutes: (Date.now() - startedAt) / 60_000,
    ...delta,
    okShare,
    memoryMiB: {
      clientStart: start.client,
      clientEnd: end.client,
      serversMeanStart: mean(start.servers),
      serversMeanEnd: mean(end.servers),
    },
    faults,
    verdict: journal.verdict,
    verdictReason: journal.verdictReason,
    violated: journal.probes.filter((probe) => !probe.ok),
  };
  const mib = (value: number): string => `${value.toFixed(1)} MiB`;
  console.log(`\nsoak, seed ${SEED}, ${result.minutes.toFixed(1)} min at 200 calls/s (reports/bench/soak.json)\n`);
  console.log('| figure | measured | goal |');
  console.log('|---|---|---|');
  console.log(`| calls | ${delta.calls} | |`);
  console.log(`| failed | ${delta.failed} | |`);
  console.log(`| wrong | ${delta.wrong} | 0 |`);
  console.log(`| recovered (answered on a second try) | ${delta.recovered} | |`);
  console.log(`| ok | ${(okShare * 100).toFixed(4)} % | >= 99.99 % |`);
  console.log(
    `| client memory, start -> end | ${mib(start.client)} -> ${mib(end.client)} (${(clientGrowth * 100).toFixed(1)} %) | growth <= 10 % |`,
  );
  console.log(`| server memory (mean of the live ones), start -> end | ${mib(mean(start.servers))} -> ${mib(mean(end.servers))} | |`);
  console.log(
    `| faults | ${Object.entries(faults)
      .map(([key, count]) => `${key} ${count}`)
      .join(', ')} | |`,
  );
  // Skips by the blast-radius rule are allowed (and in the reason); a fault that did not apply is not.
  console.log(`| verdict | ${journal.verdict}${journal.verdictReason ? ` (${journal.verdictReason})` : ''} | held |`);
  mkdirSync('reports/bench', { recursive: true });
  writeFileSync('reports/bench/soak.json', JSON.stringify({ ...result, journal }, null, 2));
} finally {
  await stack.down();
}
