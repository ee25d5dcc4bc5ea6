import type { ConsulHttp } from '@grpc-consul-lab/consul-discovery';
import type { StatsSnapshot } from '../../packages/contracts/stats.js';
import { sleep } from './sleep.js';
import type { DockerDriver } from '../docker/docker-driver.js';
import { readStackFacts, unmetPrecondition } from '../scenario/preconditions.js';
import { describeAction, formatPlan, type Plan, type PlannedStep, planScenario } from '../scenario/plan.js';
import type { Scenario } from '../scenario/schema.js';
import { SkippedStep, type StepContext, type StepOutcome, type Undo } from '../faults/fault-kind.js';
import { faultKindOf } from '../faults/registry.js';
import { registrationsOf } from './consul-view.js';
import { datacenterFailover, failoverLine, mergeSwitches } from './datacenter-switches.js';
import { type Baseline, baselineOf, checkCounters, checkServed, type LiveInstance } from './hypothesis.js';
import { type ActionRecord, type Journal, type Observation, type ProbeResult, toSample } from './journal.js';
import { allOf, observe, type ReadBack } from './read-back.js';
import { fetchStats } from '../../packages/contracts/stats.js';
import { judge } from './verdict.js';
import { type FaultFigures, faultFigures, type LatencyQuantiles, steadyLatency } from '../report/fault-figures.js';
import { HELLO_SERVICE_NAME } from '../../packages/contracts/hello.js';

/**
 * Runs a scenario in four phases, Chaos Toolkit's: `before` checks the
 * steady-state hypothesis; `method` applies the planned faults on schedule
 * while sampling the client and checking the hypothesis; `rollback` undoes
 * every fault still in force (always, also when interrupted or when a
 * step failed); `after` settles and judges once more. Everything it sees
 * goes into the journal, and to the observer (the live view) as it happens.
 */
export interface RunOptions {
  readonly scenario: Scenario;
  /** The scenario's YAML as run, kept in the journal so the run can be replayed (scenarios built in code have none). */
  readonly source?: string;
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
  /** How long a fault's read-back may take to confirm it (a SIGTERM waits out the drain); 15 s unless set. */
  readonly proofWithinMs?: number;
  readonly observer?: RunObserver;
}

/** What the live view is told while a run goes on. */
export interface RunObserver {
  setPlan(plan: {
    title: string;
    seed: number;
    methodStartedAt: number;
    totalMs: number;
    steps: { index: number; description: string; atMs: number; untilMs?: number }[];
  }): void;
  push(stats: StatsSnapshot, t: number): void;
  faultStarted(fault: { index: number; description: string; startedAt: number }): void;
  faultEnded(index: number, at: number, outcome?: string, detail?: string): void;
  /** Each fault's failover timings so far (report/fault-figures.ts), after every sample. */
  setTimings(timings: { figures: readonly FaultFigures[]; steady: LatencyQuantiles | undefined }): void;
}

const SAMPLE_EVERY_MS = 1_000;
const PROOF_WITHIN_MS = 15_000;
const SERVICE = HELLO_SERVICE_NAME;

/** A step of the scenario cannot apply on this stack: thrown before anything changes. */
export class PreconditionError extends Error {}

export async function runScenario(options: RunOptions): Promise<Journal> {
  const { driver, scenario } = options;
  const unmet = unmetPrecondition(scenario, await readStackFacts(driver, options.consul !== undefined, scenario));
  if (unmet) throw new PreconditionError(unmet);
  const run = new ScenarioRun(options);
  try {
    const steady = await run.before();
    if (steady) {
      try {
        await run.method(steady);
      } finally {
        // Rollbacks always run: nothing stays paused, disconnected or stopped.
        await run.rollback();
      }
      await run.after(steady);
    }
  } finally {
    await run.finish();
  }
  return run.journal;
}

interface TimelineEvent {
  readonly atMs: number;
  readonly kind: 'apply' | 'undo';
  readonly step: PlannedStep;
}

class ScenarioRun {
  readonly journal: Journal;
  private readonly plan: Plan;
  private readonly underFault = new Set<string>();
  /** Undos registered by steps and not run yet, by step index, in the order registered. */
  private readonly pendingUndos = new Map<number, Undo[]>();
  private readonly reported = new Set<string>();
  private lastStats: StatsSnapshot | undefined;

  constructor(private readonly options: RunOptions) {
    this.plan = planScenario(options.scenario, options.seed);
    this.journal = {
      scenario: {
        title: options.scenario.title,
        description: options.scenario.description,
        file: options.file,
        parsed: options.scenario,
        ...(options.source !== undefined && { source: options.source }),
      },
      seed: options.seed,
      scope: `${options.driver.scope.label}=${options.driver.scope.value}`,
      plan: formatPlan(this.plan),
      startedAt: Date.now(),
      endedAt: 0,
      methodStartedAt: 0,
      status: 'completed',
      deviated: false,
      probes: [],
      actions: [],
      rollbacks: [],
      samples: [],
      servedBy: [],
    };
  }

  /** Before: the system must be steady before it is disturbed. Returns the baseline, or undefined when it is not. */
  async before(): Promise<Baseline | undefined> {
    let stats: StatsSnapshot;
    try {
      stats = await this.sample();
    } catch (error) {
      this.record([
        {
          phase: 'before',
          at: Date.now(),
          probe: 'client-reachable',
          ok: false,
          value: (error as Error).message,
          expected: 'the client answers /stats',
        },
      ]);
      this.journal.status = 'failed';
      return undefined;
    }
    const warmupBaseline = baselineOf(stats);
    await sleep(this.options.warmupMs ?? 3_000, this.options.signal);
    stats = await this.sample();
    this.record([
      ...checkCounters({ hypothesis: this.options.scenario.hypothesis, baseline: warmupBaseline, stats, phase: 'before', at: Date.now() }),
      await this.checkEveryLiveServed(stats, 'before'),
    ]);
    if (this.journal.deviated) {
      this.options.log('the hypothesis does not hold before any fault: not starting the method');
      this.journal.status = 'failed';
      return undefined;
    }
    return baselineOf(stats);
  }

  /** Method: faults on schedule, sampling and checking all along. */
  async method(baseline: Baseline): Promise<void> {
    const { signal } = this.options;
    this.journal.methodStartedAt = Date.now();
    this.tell((observer) =>
      observer.setPlan({
        title: this.options.scenario.title,
        seed: this.options.seed,
        methodStartedAt: this.journal.methodStartedAt,
        totalMs: this.plan.totalMs,
        steps: this.plan.steps.map((step) => ({
          index: step.index,
          description: describeAction(step.action),
          atMs: step.atMs,
          ...(step.untilMs !== undefined && { untilMs: step.untilMs }),
        })),
      }),
    );
    const events = buildEvents(this.plan);
    let next = 0;
    this.sampler = setInterval(() => {
      // One reading at a time; the last one is awaited before the verdict.
      if (this.reading) return;
      this.reading = this.sample()
        .then(
          (current) => {
            this.record(
              checkCounters({ hypothesis: this.options.scenario.hypothesis, baseline, stats: current, phase: 'during', at: Date.now() }),
            );
            this.options.status(statusLine(this.journal, this.plan, events[next], current, baseline));
          },
          () => this.options.status('client /stats not answering'),
        )
        .finally(() => {
          this.reading = undefined;
        });
    }, SAMPLE_EVERY_MS);
    for (; next < events.length && !signal?.aborted; next += 1) {
      const event = events[next] as TimelineEvent;
      await sleep(this.journal.methodStartedAt + event.atMs - Date.now(), signal);
      if (signal?.aborted) break;
      if (event.kind === 'undo') await this.undoStep(event.step.index);
      else await this.applyStep(event.step);
    }
  }

  /** Rollback: every undo still pending, the latest first. */
  async rollback(): Promise<void> {
    for (const index of [...this.pendingUndos.keys()].reverse()) await this.undoStep(index);
  }

  /** After: let traffic settle, then judge the run as a whole. */
  async after(baseline: Baseline): Promise<void> {
    const { signal } = this.options;
    if (signal?.aborted) {
      this.journal.status = 'interrupted';
      this.options.log('interrupted: faults undone, no verdict');
    } else {
      await sleep(this.options.scenario.settle);
    }
    await this.stopSampling();
    try {
      await this.sample();
    } catch {
      // judged on the last reading
    }
    if (!signal?.aborted && this.lastStats) {
      this.record([
        ...checkCounters({ hypothesis: this.options.scenario.hypothesis, baseline, stats: this.lastStats, phase: 'after', at: Date.now() }),
        await this.checkEveryLiveServed(this.lastStats, 'after'),
      ]);
    }
  }

  async finish(): Promise<void> {
    await this.stopSampling();
    this.journal.endedAt = Date.now();
    this.timeFailovers();
    const { verdict, reason } = judge(this.journal);
    this.journal.verdict = verdict;
    this.journal.verdictReason = reason;
  }

  /**
   * Each fault that took out a datacenter gets its time to fail over and to
   * fail back, from every switch the client reported, the settle included
   * (a failback usually comes after the last fault's undo).
   */
  private timeFailovers(): void {
    for (const action of this.journal.actions) {
      if (action.datacenter === undefined || action.outcome !== 'done') continue;
      action.failover = datacenterFailover(action.datacenter, action.startedAt, action.undoneAt, this.journal.servedBy ?? []);
      this.options.log(`fault #${action.index + 1} ${action.description}: ${failoverLine(action.failover)}`);
    }
  }

  /** A step's or an undo's read-back, into the journal's terms. */
  private observe(proof: ReadBack): Promise<Observation> {
    return observe(proof, this.options.proofWithinMs ?? PROOF_WITHIN_MS);
  }

  private sampler: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;

  /** No new reading, and the one under way (if any) is over. */
  private async stopSampling(): Promise<void> {
    clearInterval(this.sampler);
    this.sampler = undefined;
    await this.reading;
  }

  /** The observer (the live view) is told what happens; its failure is never the run's. */
  private tell(what: (observer: RunObserver) => void): void {
    if (!this.options.observer) return;
    try {
      what(this.options.observer);
    } catch (error) {
      this.options.log(`live view: ${(error as Error).message}`);
    }
  }

  /** Reads the client's counters into the journal and to the observer. */
  private async sample(): Promise<StatsSnapshot> {
    // The runner's only view of what callers experience.
    const stats = await fetchStats(this.options.statsUrl);
    const at = Date.now();
    this.lastStats = stats;
    this.journal.samples.push(toSample(stats, at));
    this.journal.servedBy = mergeSwitches(this.journal.servedBy ?? [], stats.servedBy);
    this.tell((observer) => observer.push(stats, at));
    if (this.journal.actions.length > 0) {
      this.tell((observer) => observer.setTimings({ figures: faultFigures(this.journal), steady: steadyLatency(this.journal) }));
    }
    return stats;
  }

  private context(index: number): StepContext {
    return {
      driver: this.options.driver,
      keepAlive: this.options.scenario.keepAlive,
      underFault: this.underFault,
      sleep: (ms) => sleep(ms),
      ...(this.options.consul && { consul: this.options.consul }),
      willUndo: (undo) => {
        const undos = this.pendingUndos.get(index) ?? [];
        undos.push(undo);
        this.pendingUndos.set(index, undos);
        return () => {
          const left = (this.pendingUndos.get(index) ?? []).filter((entry) => entry !== undo);
          if (left.length > 0) this.pendingUndos.set(index, left);
          else this.pendingUndos.delete(index);
        };
      },
    };
  }

  private async applyStep(step: PlannedStep): Promise<void> {
    const datacenter = faultKindOf(step.action).datacenterOf?.(step.action);
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
      ...(datacenter !== undefined && { datacenter }),
    };
    this.journal.actions.push(record);
    this.tell((observer) => observer.faultStarted({ index: step.index, description: record.description, startedAt: record.startedAt }));
    let outcome: StepOutcome | undefined;
    try {
      outcome = await faultKindOf(step.action).apply(step, this.context(step.index));
      record.targets = outcome.targets;
      record.newInstances = outcome.newInstances;
      record.detail = outcome.detail;
    } catch (error) {
      record.outcome = error instanceof SkippedStep ? 'skipped' : 'failed';
      record.detail = (error as Error).message;
      this.options.log(`fault #${step.index + 1} ${record.description}: ${record.outcome.toUpperCase()} (${record.detail})`);
    } finally {
      record.endedAt = Date.now();
    }
    if (outcome) {
      // Read back after endedAt: the step's times stay those of its Docker and Consul calls.
      record.applied = await this.observe(outcome.proof);
      const confirmed = record.applied.ok ? 'read back' : 'NOT CONFIRMED, read back';
      this.options.log(`fault #${step.index + 1} ${record.description}: ${outcome.detail}; ${confirmed}: ${record.applied.observed}`);
    }
    record.undoable = this.pendingUndos.has(step.index);
    if (record.undoable) {
      // A step that failed halfway is rolled back as far as it got, at once (which ends it).
      if (record.outcome !== 'done') await this.undoStep(step.index);
    } else {
      // Nothing to undo (a replacement, a scale, a step skipped): over once applied.
      this.tell((observer) => observer.faultEnded(step.index, record.endedAt, record.outcome, record.detail));
    }
  }

  /** Runs a step's pending undos, the last registered first, then reads back that they took. */
  private async undoStep(index: number): Promise<void> {
    const undos = this.pendingUndos.get(index);
    if (!undos) return;
    this.pendingUndos.delete(index);
    await this.runUndos(undos);
    // When the undo took effect, not when it was read back: measurements of the heal start here.
    const undoneAt = Date.now();
    const undone = await this.observe(allOf(undos.map((undo) => undo.proof)));
    if (!undone.ok) this.options.log(`fault #${index + 1} NOT CONFIRMED undone, read back: ${undone.observed}`);
    const action = this.journal.actions.find((entry) => entry.index === index);
    if (action) {
      action.undone = undone;
      action.undoneAt = undoneAt;
      this.tell((observer) => observer.faultEnded(index, undoneAt, action.outcome, action.detail));
    }
  }

  private async runUndos(undos: readonly Undo[]): Promise<void> {
    for (const undo of [...undos].reverse()) {
      try {
        await undo.run();
        this.journal.rollbacks.push({ description: undo.description, at: Date.now(), outcome: 'done' });
        this.options.log(`rollback: ${undo.description}`);
      } catch (error) {
        this.journal.rollbacks.push({ description: undo.description, at: Date.now(), outcome: `failed: ${(error as Error).message}` });
        this.options.log(`rollback FAILED: ${undo.description}: ${(error as Error).message}`);
      }
    }
  }

  private record(results: ProbeResult[]): void {
    for (const result of results) {
      const key = `${result.phase}:${result.probe}`;
      if (result.phase === 'during' && (result.ok || this.reported.has(key))) continue;
      this.reported.add(key);
      this.journal.probes.push(result);
      if (!result.ok) this.journal.deviated = true;
      this.options.log(
        `${result.ok ? 'hypothesis ok ' : 'HYPOTHESIS VIOLATED'} [${result.phase}] ${result.probe}: ${result.value} (expected ${result.expected})`,
      );
    }
  }

  /**
   * The instances that must each be served: running, under no fault, and
   * (with datacenters) in the one that serves the client now. A client of
   * two datacenters calls the one it prefers and keeps the other in reserve:
   * the reserve's instances are silent by design, not a finding.
   */
  private async liveInstances(serving: string | undefined): Promise<LiveInstance[]> {
    return (await this.options.driver.targets('hello'))
      .filter((target) => target.state === 'running' && !this.underFault.has(target.containerId))
      .filter((target) => serving === undefined || target.datacenter === '' || target.datacenter === serving)
      .map((target) => ({ instanceId: target.instanceId, container: target.name }));
  }

  private async checkEveryLiveServed(current: StatsSnapshot, phase: ProbeResult['phase']): Promise<ProbeResult> {
    const { scenario, consul } = this.options;
    const at = Date.now();
    const live = await this.liveInstances(current.servedBy.at(-1)?.datacenter);
    const reading = { hypothesis: scenario.hypothesis, live, stats: current, phase, at };
    const probe = checkServed(reading);
    if (probe.ok || consul === undefined) return probe;
    // Only a failing probe is worth asking Consul for the why.
    return checkServed({ ...reading, registrations: await registrationsOf(consul, SERVICE) });
  }
}

function buildEvents(thePlan: Plan): TimelineEvent[] {
  const events: TimelineEvent[] = [];
  for (const step of thePlan.steps) {
    events.push({ atMs: step.atMs, kind: 'apply', step });
    if (step.untilMs !== undefined) events.push({ atMs: step.untilMs, kind: 'undo', step });
  }
  return events.sort((a, b) => a.atMs - b.atMs || (a.kind === 'undo' ? -1 : 1));
}

function statusLine(journal: Journal, thePlan: Plan, next: TimelineEvent | undefined, stats: StatsSnapshot, baseline: Baseline): string {
  const elapsed = ((Date.now() - journal.methodStartedAt) / 1_000).toFixed(0);
  const upcoming = next
    ? `next: #${next.step.index + 1} ${next.kind === 'undo' ? 'undo' : next.step.action.action} at ${(next.atMs / 1_000).toFixed(0)}s`
    : 'settling';
  const now = Date.now();
  const serving = Object.values(stats.lastOkAtByInstance).filter((at) => at > now - 2_000).length;
  const datacenter = stats.servedBy.at(-1)?.datacenter;
  return `[${elapsed}s/${(thePlan.totalMs / 1_000).toFixed(0)}s] ${upcoming} | ok=${stats.ok - baseline.ok} failed=${stats.failed - baseline.failed} wrong=${stats.wrong - baseline.wrong} | serving: ${serving}${datacenter === undefined ? '' : ` in ${datacenter}`}`;
}
