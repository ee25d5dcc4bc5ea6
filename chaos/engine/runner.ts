import type { ConsulHttp } from '@grpc-consul-lab/consul-discovery';
import type { StatsSnapshot } from '../../services/client/call-stats.js';
import { sleep } from './sleep.js';
import type { DockerDriver } from '../docker/docker-driver.js';
import { describeAction, formatPlan, type Plan, type PlannedStep, planScenario } from '../scenario/plan.js';
import type { Scenario } from '../scenario/schema.js';
import { applyStep, type ExecutorContext, SkippedStep, type Undo } from './fault-executor.js';
import { registrationsOf } from './consul-view.js';
import { type Baseline, baselineOf, checkCounters, checkServed, type LiveInstance } from './hypothesis.js';
import { type ActionRecord, type Journal, type ProbeResult, toSample } from './journal.js';
import { readStats } from './stats-probe.js';

/**
 * Runs a scenario: checks the hypothesis before, keeps checking it while the
 * planned faults happen, undoes every fault (also when interrupted), settles,
 * and judges it once more. Everything it sees goes into the journal.
 */
export interface RunOptions {
  readonly scenario: Scenario;
  readonly file: string;
  readonly seed: number;
  readonly driver: DockerDriver;
  readonly statsUrl: string;
  /** Consul, asked what it holds for an instance that goes silent. */
  readonly consul?: ConsulHttp;
  /** Prints a line (plan, faults, probe results, verdict). */
  readonly log: (line: string) => void;
  /** Shows the one live status line; called about once a second. */
  readonly status: (line: string) => void;
  /** Aborting stops the method: no new fault starts, rollbacks run. */
  readonly signal?: AbortSignal;
  /** How long the hypothesis is watched before the method starts. */
  readonly warmupMs?: number;
}

const SAMPLE_EVERY_MS = 1_000;
const SERVICE = 'HelloService';

export async function runScenario(options: RunOptions): Promise<Journal> {
  const { scenario, driver, log, signal } = options;
  const thePlan = planScenario(scenario, options.seed);
  const journal: Journal = {
    scenario: { title: scenario.title, description: scenario.description, file: options.file },
    seed: options.seed,
    scope: `${driver.scope.label}=${driver.scope.value}`,
    plan: formatPlan(thePlan),
    startedAt: Date.now(),
    endedAt: 0,
    methodStartedAt: 0,
    status: 'completed',
    deviated: false,
    probes: [],
    actions: [],
    rollbacks: [],
    samples: [],
  };
  const underFault = new Set<string>();
  const context: ExecutorContext = {
    driver,
    keepAlive: scenario.keepAlive,
    underFault,
    sleep: (ms) => sleep(ms),
    ...(options.consul && { consul: options.consul }),
  };
  const pendingUndos = new Map<number, Undo>();
  const reported = new Set<string>();

  const record = (results: ProbeResult[]): void => {
    for (const result of results) {
      const key = `${result.phase}:${result.probe}`;
      if (result.phase === 'during' && (result.ok || reported.has(key))) continue;
      reported.add(key);
      journal.probes.push(result);
      if (!result.ok) journal.deviated = true;
      log(
        `${result.ok ? 'hypothesis ok ' : 'HYPOTHESIS VIOLATED'} [${result.phase}] ${result.probe}: ${result.value} (expected ${result.expected})`,
      );
    }
  };
  const liveInstances = async (): Promise<LiveInstance[]> =>
    (await driver.targets('hello'))
      .filter((target) => target.state === 'running' && !underFault.has(target.containerId))
      .map((target) => ({ instanceId: target.instanceId, container: target.name }));
  const checkEveryLiveServed = async (current: StatsSnapshot, phase: ProbeResult['phase']): Promise<ProbeResult> => {
    const at = Date.now();
    const live = await liveInstances();
    const probe = checkServed(scenario.hypothesis, live, current, phase, at);
    if (probe.ok || options.consul === undefined) return probe;
    // Only a failing probe is worth asking Consul for the why.
    return checkServed(scenario.hypothesis, live, current, phase, at, await registrationsOf(options.consul, SERVICE));
  };

  // Before: the system must be steady before it is disturbed.
  let stats: StatsSnapshot;
  try {
    stats = await readStats(options.statsUrl);
  } catch (error) {
    record([
      {
        phase: 'before',
        at: Date.now(),
        probe: 'client-reachable',
        ok: false,
        value: (error as Error).message,
        expected: 'the client answers /stats',
      },
    ]);
    journal.status = 'failed';
    journal.endedAt = Date.now();
    return journal;
  }
  const warmupBaseline = baselineOf(stats);
  journal.samples.push(toSample(stats, Date.now()));
  await sleep(options.warmupMs ?? 3_000, signal);
  stats = await readStats(options.statsUrl);
  journal.samples.push(toSample(stats, Date.now()));
  record([...checkCounters(scenario.hypothesis, warmupBaseline, stats, 'before', Date.now()), await checkEveryLiveServed(stats, 'before')]);
  if (journal.deviated) {
    log('the hypothesis does not hold before any fault: not starting the method');
    journal.status = 'failed';
    journal.endedAt = Date.now();
    return journal;
  }

  // Method: faults on schedule, sampling and checking all along.
  const baseline: Baseline = baselineOf(stats);
  journal.methodStartedAt = Date.now();
  const events = buildEvents(thePlan);
  let nextEvent = 0;
  let lastStats = stats;
  const sampler = setInterval(() => {
    void readStats(options.statsUrl).then(
      (current) => {
        lastStats = current;
        journal.samples.push(toSample(current, Date.now()));
        record(checkCounters(scenario.hypothesis, baseline, current, 'during', Date.now()));
        options.status(statusLine(journal, thePlan, events[nextEvent], current, baseline));
      },
      () => options.status('client /stats not answering'),
    );
  }, SAMPLE_EVERY_MS);

  try {
    for (; nextEvent < events.length && !signal?.aborted; nextEvent += 1) {
      const event = events[nextEvent] as TimelineEvent;
      await sleep(journal.methodStartedAt + event.atMs - Date.now(), signal);
      if (signal?.aborted) break;
      if (event.kind === 'undo') {
        const undo = pendingUndos.get(event.step.index);
        if (undo) {
          pendingUndos.delete(event.step.index);
          await runUndo(undo, journal, log);
          const action = journal.actions.find((entry) => entry.index === event.step.index);
          if (action) action.undoneAt = Date.now();
        }
        continue;
      }
      await runStep(event.step, context, journal, pendingUndos, log);
    }
  } finally {
    // Rollbacks always run: nothing stays paused, disconnected or stopped.
    for (const [index, undo] of [...pendingUndos].reverse()) {
      pendingUndos.delete(index);
      await runUndo(undo, journal, log);
      const action = journal.actions.find((entry) => entry.index === index);
      if (action) action.undoneAt = Date.now();
    }
  }

  if (signal?.aborted) {
    journal.status = 'interrupted';
    log('interrupted: faults undone, no verdict');
  } else {
    await sleep(scenario.settle);
  }
  clearInterval(sampler);
  try {
    lastStats = await readStats(options.statsUrl);
    journal.samples.push(toSample(lastStats, Date.now()));
  } catch {
    // judged on the last reading
  }
  if (!signal?.aborted) {
    record([
      ...checkCounters(scenario.hypothesis, baseline, lastStats, 'after', Date.now()),
      await checkEveryLiveServed(lastStats, 'after'),
    ]);
  }
  journal.endedAt = Date.now();
  return journal;
}

interface TimelineEvent {
  readonly atMs: number;
  readonly kind: 'apply' | 'undo';
  readonly step: PlannedStep;
}

function buildEvents(thePlan: Plan): TimelineEvent[] {
  const events: TimelineEvent[] = [];
  for (const step of thePlan.steps) {
    events.push({ atMs: step.atMs, kind: 'apply', step });
    if (step.untilMs !== undefined) events.push({ atMs: step.untilMs, kind: 'undo', step });
  }
  return events.sort((a, b) => a.atMs - b.atMs || (a.kind === 'undo' ? -1 : 1));
}

async function runStep(
  step: PlannedStep,
  context: ExecutorContext,
  journal: Journal,
  pendingUndos: Map<number, Undo>,
  log: (line: string) => void,
): Promise<void> {
  const record: ActionRecord = {
    index: step.index,
    description: describeAction(step.action),
    kind: step.action.action,
    plannedAtMs: step.atMs,
    startedAt: Date.now(),
    endedAt: 0,
    outcome: 'done',
    detail: '',
    targets: [],
    newInstances: [],
  };
  journal.actions.push(record);
  try {
    const outcome = await applyStep(step, context);
    record.targets = outcome.targets;
    record.newInstances = outcome.newInstances;
    record.detail = outcome.detail;
    if (outcome.undo) pendingUndos.set(step.index, outcome.undo);
    log(`fault #${step.index + 1} ${record.description}: ${outcome.detail}`);
  } catch (error) {
    record.outcome = error instanceof SkippedStep ? 'skipped' : 'failed';
    record.detail = (error as Error).message;
    log(`fault #${step.index + 1} ${record.description}: ${record.outcome.toUpperCase()} (${record.detail})`);
  } finally {
    record.endedAt = Date.now();
  }
}

async function runUndo(undo: Undo, journal: Journal, log: (line: string) => void): Promise<void> {
  try {
    await undo.run();
    journal.rollbacks.push({ description: undo.description, at: Date.now(), outcome: 'done' });
    log(`rollback: ${undo.description}`);
  } catch (error) {
    journal.rollbacks.push({ description: undo.description, at: Date.now(), outcome: `failed: ${(error as Error).message}` });
    log(`rollback FAILED: ${undo.description}: ${(error as Error).message}`);
  }
}

function statusLine(journal: Journal, thePlan: Plan, next: TimelineEvent | undefined, stats: StatsSnapshot, baseline: Baseline): string {
  const elapsed = ((Date.now() - journal.methodStartedAt) / 1_000).toFixed(0);
  const upcoming = next
    ? `next: #${next.step.index + 1} ${next.kind === 'undo' ? 'undo' : next.step.action.action} at ${(next.atMs / 1_000).toFixed(0)}s`
    : 'settling';
  const now = Date.now();
  const serving = Object.values(stats.lastOkAtByInstance).filter((at) => at > now - 2_000).length;
  return `[${elapsed}s/${(thePlan.totalMs / 1_000).toFixed(0)}s] ${upcoming} | ok=${stats.ok - baseline.ok} failed=${stats.failed - baseline.failed} wrong=${stats.wrong - baseline.wrong} | serving: ${serving}`;
}
