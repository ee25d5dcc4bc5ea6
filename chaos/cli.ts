import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConsulConfigError, ConsulHttp } from '@grpc-consul-lab/consul-discovery';
import { DockerDriver } from './docker/docker-driver.js';
import { composeScope, isSwarmScope, stackScope } from './docker/labels.js';
import { runScenario } from './engine/runner.js';
import { renderReport } from './report/html-report.js';
import { renderJunit } from './report/junit-report.js';
import { formatPlan, planScenario } from './scenario/plan.js';
import { stackFacts, unmetPrecondition } from './scenario/preconditions.js';
import { loadScenario, parseScenario, ScenarioError } from './scenario/load-scenario.js';
import type { Journal } from './engine/journal.js';
import { verdictExit } from './verdict-exit.js';
import { LiveFeed } from '../services/live-view/live-feed.js';

/**
 * `make chaos`: runs a scenario against the stack of `make up` (or any compose
 * project / e2e run), prints the plan, a live status line and the verdict,
 * and writes a JSON journal and an HTML report. Exit 1 when the hypothesis
 * was violated or a fault could not be undone, 2 for bad input (also a step
 * that cannot apply on this stack), 3 when the run itself stopped on an error
 * (after its rollbacks), 4 when the hypothesis held but a fault is unproven
 * (it did not apply, or its read-back or its undo's did not confirm it),
 * 130 when interrupted.
 */
const USAGE = `usage: chaos [--scenario NAME|FILE | --replay JOURNAL] [--seed N] [--dry-run] [--project NAME | --stack NAME] [--stats-url URL] [--consul-url URL] [--out DIR] [--junit FILE] [--live-port N]
  --scenario   a shipped scenario (chaos/scenarios/<name>.yaml) or a YAML file (default: rolling-kill)
  --replay     run again the scenario and seed a journal (reports/chaos/*.json) recorded
  --seed       makes target choice and jitter reproducible (default: random, printed)
  --dry-run    print the plan and change nothing
  --project    compose project whose labelled containers are targets (default: grpc-consul-lab)
  --stack      Swarm stack whose labelled task containers are targets instead (make swarm-up's: grpc-consul-lab)
  --stats-url  the client's stats endpoint (default: http://127.0.0.1:9464)
  --consul-url Consul's HTTP API (with CONSUL_CACERT, CONSUL_HTTP_TOKEN_FILE… as the consul CLI reads them), asked
               what it holds for an instance that goes silent (default: https://127.0.0.1:8501)
  --out        where the journal and report go (default: reports/chaos)
  --junit      also write the run as JUnit XML there (each fault a test case), for CI
  --live-port  serve the live view on 127.0.0.1 at this port while the run lasts (default: 9470; 0: none)`;

function fail(message: string): never {
  process.stderr.write(`chaos: ${message}\n`);
  process.exit(2);
}

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      scenario: { type: 'string' },
      replay: { type: 'string' },
      'live-port': { type: 'string', default: '9470' },
      seed: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      project: { type: 'string' },
      stack: { type: 'string' },
      'stats-url': { type: 'string', default: 'http://127.0.0.1:9464' },
      'consul-url': { type: 'string', default: 'https://127.0.0.1:8501' },
      out: { type: 'string', default: 'reports/chaos' },
      junit: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
}
try {
  args = parse();
} catch (error) {
  fail(`${(error as Error).message}\n${USAGE}`);
}
const { values } = args;
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (values.project !== undefined && values.stack !== undefined) fail('--project and --stack both given: a run has one scope');
const scope = values.stack !== undefined ? stackScope(values.stack) : composeScope(values.project ?? 'grpc-consul-lab');
const seedText = values.seed ?? '';
if (seedText !== '' && !/^\d{1,10}$/.test(seedText)) fail(`--seed must be a whole number, got ${JSON.stringify(seedText)}`);
if (values.replay !== undefined && (values.scenario !== undefined || seedText !== '')) {
  fail('--replay runs the scenario and seed of the journal: give it without --scenario and --seed');
}
const livePort = values['live-port'];
if (!/^\d{1,5}$/.test(livePort) || Number(livePort) > 65_535)
  fail(`--live-port must be a port number (0 for none), got ${JSON.stringify(livePort)}`);
for (const option of ['stats-url', 'consul-url'] as const) {
  if (!/^https?:\/\/[^\s/]+/.test(values[option])) fail(`--${option} must be an http URL, got ${JSON.stringify(values[option])}`);
}

/** The scenario and seed a journal recorded, for --replay. */
function fromJournal(path: string): { loaded: ReturnType<typeof loadScenario>; seed: number } {
  let journal: Partial<Journal> | null;
  try {
    journal = JSON.parse(readFileSync(path, 'utf8')) as Partial<Journal> | null;
  } catch (error) {
    fail(`--replay ${path}: ${(error as Error).message.split('\n')[0]}`);
  }
  const source = journal?.scenario?.source;
  if (!journal || typeof source !== 'string' || typeof journal.seed !== 'number') {
    fail(`--replay ${path}: not a chaos journal with its scenario (journals written before the scenario was kept cannot be replayed)`);
  }
  const file = `${journal.scenario?.file ?? 'scenario'} (as recorded in ${path})`;
  return { loaded: { scenario: parseScenario(source, file), file, source }, seed: journal.seed };
}

let loaded: ReturnType<typeof loadScenario>;
let seed: number;
try {
  if (values.replay !== undefined) ({ loaded, seed } = fromJournal(values.replay));
  else {
    loaded = loadScenario(values.scenario ?? 'rolling-kill');
    seed = seedText === '' ? Math.floor(Math.random() * 2 ** 31) : Number(seedText) >>> 0;
  }
} catch (error) {
  if (error instanceof ScenarioError) fail(error.message);
  throw error;
}
const { scenario, file, source } = loaded;
const plan = formatPlan(planScenario(scenario, seed));
if (values['dry-run']) {
  process.stdout.write(`${plan}\ndry run: nothing was changed\n`);
  process.exit(0);
}

let consul: ConsulHttp;
try {
  consul = new ConsulHttp({ address: values['consul-url'] });
} catch (error) {
  if (error instanceof ConsulConfigError) fail(error.message);
  throw error;
}
const driver = new DockerDriver(scope);
let targets: Awaited<ReturnType<DockerDriver['targets']>>;
try {
  targets = await driver.targets();
} catch (error) {
  fail(`cannot reach the Docker engine: ${(error as Error).message}`);
}
if (!targets.some((target) => target.role === 'hello')) {
  fail(
    `no running hello containers labelled as chaos targets in ${driver.scope.label}=${driver.scope.value}; start the stack with: make ${isSwarmScope(scope) ? 'swarm-up' : 'up'}`,
  );
}
// Every step's needs (Swarm or not, a Consul cluster, instances beyond keepAlive): said before anything changes.
const unmet = unmetPrecondition(scenario, stackFacts(targets, isSwarmScope(scope), true));
if (unmet !== undefined) fail(unmet);
// Everything checked: the plan, then the run.
process.stdout.write(`${plan}\n`);
if (values.replay !== undefined) process.stdout.write(`replaying ${values.replay}\n`);

// The live view: the run's own page, fed by the runner's samples and faults.
const live = new LiveFeed(`chaos: ${scenario.title}`);
const liveServer = createServer((request, response) => {
  if (!live.handle(request, response)) response.writeHead(404, { 'content-type': 'text/plain' }).end('the live view is at /\n');
});
if (livePort !== '0') {
  await new Promise<void>((resolve) => {
    liveServer.once('error', (error: NodeJS.ErrnoException) => {
      process.stderr.write(
        `chaos: live view not served: port ${livePort} ${error.code === 'EADDRINUSE' ? 'is in use (LIVE_PORT=… picks another)' : error.message}\n`,
      );
      resolve();
    });
    liveServer.listen(Number(livePort), '127.0.0.1', () => {
      const address = liveServer.address();
      process.stdout.write(`live view: http://127.0.0.1:${typeof address === 'object' && address ? address.port : livePort}/\n`);
      resolve();
    });
  });
}

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

const tty = process.stdout.isTTY;
let lastStatusAt = 0;
const clearStatus = (): void => {
  if (tty) process.stdout.write('\r\x1b[2K');
};
let journal: Journal;
try {
  journal = await runScenario({
    scenario,
    source,
    file,
    seed,
    observer: live,
    driver,
    statsUrl: values['stats-url'],
    consul,
    signal: interrupt.signal,
    log: (line) => {
      clearStatus();
      process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
    },
    status: (line) => {
      if (tty) process.stdout.write(`\r\x1b[2K${line}`);
      else if (Date.now() - lastStatusAt >= 5_000) {
        lastStatusAt = Date.now();
        process.stdout.write(`${line}\n`);
      }
    },
  });
} catch (error) {
  // Rollbacks have run (the runner's finally); what is left is to say why it stopped.
  clearStatus();
  process.stderr.write(`chaos: the run stopped: ${(error as Error).message}\n`);
  process.exit(3);
}
clearStatus();
live.close();
liveServer.close();

mkdirSync(values.out, { recursive: true });
const scenarioName = (values.scenario ?? (values.replay !== undefined ? `replay-${scenario.title}` : 'rolling-kill')).replace(
  /[^A-Za-z0-9_-]/g,
  '_',
);
const base = join(values.out, `${new Date(journal.startedAt).toISOString().replace(/[:.]/g, '-')}-${scenarioName}-seed${seed}`);
writeFileSync(`${base}.json`, JSON.stringify(journal, null, 2));
writeFileSync(`${base}.html`, renderReport(journal));
if (values.junit) {
  mkdirSync(dirname(values.junit), { recursive: true });
  writeFileSync(values.junit, renderJunit(journal));
}
const end = verdictExit(journal, `journal ${base}.json, report ${base}.html`);
process.stdout.write(`${end.out}\n`);
for (const line of end.err) process.stderr.write(`chaos: ${line}\n`);
process.exit(end.code);
