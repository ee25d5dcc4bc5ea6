import { parseArgs } from 'node:util';
import { BadInput } from './bad-input.js';
import { composeScope, stackScope, type TargetScope } from './docker/labels.js';

export const USAGE = `usage: chaos [--scenario NAME|FILE | --replay JOURNAL] [--seed N] [--dry-run] [--project NAME | --stack NAME] [--stats-url URL] [--consul-url URL] [--out DIR] [--junit FILE] [--live-port N]
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

/** `make chaos`'s flags, checked. */
export interface CliArgs {
  readonly help: boolean;
  readonly scenario: string | undefined;
  readonly replay: string | undefined;
  /** As given: '' for a random seed. */
  readonly seed: string;
  readonly dryRun: boolean;
  readonly scope: TargetScope;
  readonly statsUrl: string;
  readonly consulUrl: string;
  readonly out: string;
  readonly junit: string | undefined;
  /** 0: no live view. */
  readonly livePort: number;
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
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
    }).values;
  } catch (error) {
    throw new BadInput(`${(error as Error).message}\n${USAGE}`);
  }
}

/**
 * The flags, each checked in turn: BadInput names the first that is wrong.
 * With --help, nothing else is checked.
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const values = parse(argv);
  const seed = values.seed ?? '';
  const livePort = values['live-port'];
  const args: CliArgs = {
    help: values.help,
    scenario: values.scenario,
    replay: values.replay,
    seed,
    dryRun: values['dry-run'],
    scope: values.stack !== undefined ? stackScope(values.stack) : composeScope(values.project ?? 'grpc-consul-lab'),
    statsUrl: values['stats-url'],
    consulUrl: values['consul-url'],
    out: values.out,
    junit: values.junit,
    livePort: Number(livePort),
  };
  if (args.help) return args;
  if (values.project !== undefined && values.stack !== undefined)
    throw new BadInput('--project and --stack both given: a run has one scope');
  if (seed !== '' && !/^\d{1,10}$/.test(seed)) throw new BadInput(`--seed must be a whole number, got ${JSON.stringify(seed)}`);
  if (args.replay !== undefined && (args.scenario !== undefined || seed !== '')) {
    throw new BadInput('--replay runs the scenario and seed of the journal: give it without --scenario and --seed');
  }
  if (!/^\d{1,5}$/.test(livePort) || args.livePort > 65_535) {
    throw new BadInput(`--live-port must be a port number (0 for none), got ${JSON.stringify(livePort)}`);
  }
  for (const option of ['stats-url', 'consul-url'] as const) {
    if (!/^https?:\/\/[^\s/]+/.test(values[option]))
      throw new BadInput(`--${option} must be an http URL, got ${JSON.stringify(values[option])}`);
  }
  return args;
}
