import { ConsulHttp } from '@grpc-consul-lab/consul-discovery';
import { LiveFeed } from '../services/live-view/live-feed.js';
import { BadInput, badInputExit } from './bad-input.js';
import { parseCliArgs, USAGE } from './cli-args.js';
import { DockerDriver } from './docker/docker-driver.js';
import { isSwarmScope } from './docker/labels.js';
import type { Journal } from './engine/journal.js';
import { type RunOptions, runScenario } from './engine/runner.js';
import { serveLiveView } from './live-server.js';
import { chooseRun, type RunChoice } from './run-choice.js';
import { writeRunFiles } from './run-files.js';
import { formatPlan, planScenario } from './scenario/plan.js';
import { readStackFacts, unmetPrecondition } from './scenario/preconditions.js';
import type { Scenario } from './scenario/schema.js';
import { terminalLines } from './terminal.js';
import { verdictExit } from './verdict-exit.js';

/** The stack has hello targets in the scope and all that every step needs; BadInput says what it lacks. */
async function checkStack(driver: DockerDriver, scenario: Scenario): Promise<void> {
  let targets: Awaited<ReturnType<DockerDriver['targets']>>;
  try {
    targets = await driver.targets();
  } catch (error) {
    throw new BadInput(`cannot reach the Docker engine: ${(error as Error).message}`);
  }
  const swarm = isSwarmScope(driver.scope);
  if (!targets.some((target) => target.role === 'hello')) {
    throw new BadInput(
      `no running hello containers labelled as chaos targets in ${driver.scope.label}=${driver.scope.value}; start the stack with: make ${swarm ? 'swarm-up' : 'up'}`,
    );
  }
  // Every step's needs (Swarm or not, a Consul cluster, instances beyond keepAlive): said before anything changes.
  const unmet = unmetPrecondition(scenario, await readStackFacts(driver, true, scenario));
  if (unmet !== undefined) throw new BadInput(unmet);
}

/** Aborted by the first Ctrl-C (or SIGTERM), so the run undoes its faults; a second Ctrl-C exits at once. */
function interruptOnSignals(): AbortSignal {
  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    if (interrupt.signal.aborted) {
      process.stderr.write('\nchaos: second Ctrl-C: exiting without waiting for rollbacks\n');
      process.exit(130);
    }
    process.stderr.write('\nchaos: interrupted: undoing every fault (Ctrl-C again to exit at once)\n');
    interrupt.abort();
  });
  process.on('SIGTERM', () => interrupt.abort());
  return interrupt.signal;
}

/**
 * The run, with its live view, Ctrl-C and terminal lines; undefined when it
 * stopped on an error (its rollbacks run), which is said in one line.
 */
async function runWatched(
  { scenario, source, file, seed }: RunChoice,
  { livePort, ...stack }: Pick<RunOptions, 'driver' | 'consul' | 'statsUrl'> & { readonly livePort: number },
): Promise<Journal | undefined> {
  // The live view: the run's own page, fed by the runner's samples and faults.
  const live = new LiveFeed(`chaos: ${scenario.title}`);
  const liveServer = await serveLiveView(live, livePort);
  const signal = interruptOnSignals();
  const { log, status, clearStatus } = terminalLines();
  const journal = await runScenario({ ...stack, scenario, source, file, seed, observer: live, signal, log, status }).catch(
    (error: unknown) => error as Error,
  );
  clearStatus();
  if (journal instanceof Error) {
    // Rollbacks have run (the runner's finally); what is left is to say why it stopped.
    process.stderr.write(`chaos: the run stopped: ${journal.message}\n`);
    return undefined;
  }
  live.close();
  liveServer?.close();
  return journal;
}

/**
 * `make chaos`: runs a scenario against the stack of `make up` (or any compose
 * project / e2e run), prints the plan, a live status line and the verdict,
 * and writes a JSON journal and an HTML report. Exit 1 when the hypothesis
 * was violated or a fault could not be undone, 2 for bad input (also a step
 * that cannot apply on this stack), 3 when the run itself stopped on an error
 * (after its rollbacks), 4 when the hypothesis held but a fault is unproven
 * (it did not apply, or its read-back or its undo's did not confirm it),
 * 130 when interrupted. Bad input throws; badInputExit makes it one line and 2.
 */
async function main(argv: readonly string[]): Promise<number> {
  const args = parseCliArgs(argv);
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const run = chooseRun(args);
  const plan = formatPlan(planScenario(run.scenario, run.seed));
  if (args.dryRun) {
    process.stdout.write(`${plan}\ndry run: nothing was changed\n`);
    return 0;
  }
  const consul = new ConsulHttp({ address: args.consulUrl });
  const driver = new DockerDriver(args.scope);
  await checkStack(driver, run.scenario);
  // Everything checked: the plan, then the run.
  process.stdout.write(`${plan}\n`);
  if (args.replay !== undefined) process.stdout.write(`replaying ${args.replay}\n`);
  const journal = await runWatched(run, { driver, consul, statsUrl: args.statsUrl, livePort: args.livePort });
  if (journal === undefined) return 3;
  const end = verdictExit(journal, writeRunFiles(journal, { out: args.out, junit: args.junit, name: run.name, seed: run.seed }));
  process.stdout.write(`${end.out}\n`);
  for (const line of end.err) process.stderr.write(`chaos: ${line}\n`);
  return end.code;
}

process.exit(await main(process.argv.slice(2)).catch(badInputExit));
