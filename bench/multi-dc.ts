import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConsulDevAgent } from '@grpc-consul-lab/consul-discovery/testing';
import { HELLO_SERVICE_NAME } from '../packages/contracts/hello.js';
import { eventually } from '../packages/testing/eventually.js';
import { quantile } from '../services/client/call-stats.js';
import { type InProcessClient, startClient } from '../services/client/in-process-client.js';
import { InProcessHello } from './support/in-process-hello.js';
import { printTable } from './support/table.js';

/**
 * Part of `make bench`: how long a client takes to leave a datacenter that
 * fails and to come back when it returns, with the two ways the discovery
 * library offers: a watch per datacenter (`dc=dc1,dc2`) and a prepared query
 * with Failover (`query=hello&dc=dc1,dc2`, polled every 500 ms). Two Consul
 * dev agents federated over the WAN (dc1, dc2), two HelloService instances
 * in this process per datacenter, the demo client at 200 calls/s (deadline
 * 5 s, waitForReady, retries, keepalive 1 s + 1 s) asking each datacenter
 * through its own agent. Faults, each EVENTS times (default 10):
 * - dc1's instances stopped (drained and deregistered), then started again;
 * - dc1 black-holed: every packet to dc1's Consul and instances dropped
 *   (iptables on loopback: connections hang, nothing is refused), then let
 *   through; needs root and iptables, else not measured;
 * - dc1 gone whole: its Consul killed and its instances stopped, then a new
 *   agent (a dev agent: it remembers nothing) and new instances.
 * Fail-over: from the fault to the first call a dc2 instance answers;
 * fail-back: from dc1 being whole again to the first call a dc1 instance
 * answers (read from the client's counters every 10 ms). Written to
 * reports/bench/multi-dc.json.
 */
const RATE = 200;
const EVENTS = Number(process.env.EVENTS ?? 10);
const HOLD_MS = 1_500;
const POLL_MS = 10;

const TARGETS = {
  'dual watch': `consul:///${HELLO_SERVICE_NAME}?dc=dc1,dc2`,
  'prepared query': `consul:///${HELLO_SERVICE_NAME}?query=hello&dc=dc1,dc2`,
} as const;

interface EventFigures {
  readonly failoverMs: number | undefined;
  readonly failbackMs: number | undefined;
  readonly calls: number;
  readonly failed: number;
}

interface Fault {
  readonly name: string;
  readonly available: boolean;
  apply(): Promise<void>;
  /** Undoes the fault; resolves once dc1 is whole again (its Consul answers, its instances registered). */
  restore(): Promise<void>;
}

let counter = 0;
const dc1 = await ConsulDevAgent.start({ datacenter: 'dc1', wan: true });
const dc2 = await ConsulDevAgent.start({ datacenter: 'dc2', joinWan: [dc1.wanAddress] });
let dc1Instances: InProcessHello[] = [];
const dc2Instances: InProcessHello[] = [];

async function consulPut(address: string, path: string, body: unknown, method = 'PUT'): Promise<void> {
  const response = await fetch(`http://${address}${path}`, { method, ...(body !== undefined && { body: JSON.stringify(body) }) });
  if (!response.ok) throw new Error(`${method} ${path} on ${address}: ${response.status} ${await response.text()}`);
}

/** The prepared query each datacenter must define: its own instances, else the other datacenter's. */
async function defineQuery(agent: ConsulDevAgent, other: string): Promise<void> {
  await consulPut(
    agent.address,
    '/v1/query',
    { Name: 'hello', Service: { Service: HELLO_SERVICE_NAME, OnlyPassing: true, Failover: { Datacenters: [other] } } },
    'POST',
  );
}

async function untilFederated(): Promise<void> {
  const federated = await eventually(async () => {
    const response = await fetch(`http://${dc1.address}/v1/catalog/datacenters`);
    return ((await response.json()) as string[]).includes('dc2');
  }, 30_000);
  if (!federated) throw new Error('dc1 and dc2 did not federate over the WAN within 30 s');
}

async function startDc1Instances(): Promise<void> {
  for (const letter of ['a', 'b']) {
    counter += 1;
    dc1Instances.push(await InProcessHello.start(dc1.address, `dc1-${letter}${counter}`));
  }
}

async function stopDc1Instances(): Promise<void> {
  await Promise.all(dc1Instances.map((instance) => instance.stop()));
  dc1Instances = [];
}

const isDc1 = (instance: string): boolean => instance.includes('-dc1-');

/** The first time (epoch ms, within POLL_MS) a call answered by an instance of `dc` is seen after `since`. */
async function firstAnswerFrom(client: InProcessClient, dc: 'dc1' | 'dc2', since: number, timeoutMs = 30_000): Promise<number | undefined> {
  let seen: number | undefined;
  await eventually(
    () => {
      const lastOk = client.stats.snapshot().lastOkAtByInstance;
      const after = Object.entries(lastOk).filter(([instance, at]) => isDc1(instance) === (dc === 'dc1') && at > since);
      if (after.length === 0) return false;
      seen = Math.min(...after.map(([, at]) => at));
      return true;
    },
    timeoutMs,
    POLL_MS,
  );
  return seen;
}

function dropLoopbackPort(port: number, drop: boolean): void {
  execFileSync('iptables', [drop ? '-I' : '-D', 'INPUT', '-i', 'lo', '-p', 'tcp', '--dport', String(port), '-j', 'DROP']);
}

function canDropPackets(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('iptables', ['-S', 'INPUT'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const blackHoled: number[] = [];
const faults: Fault[] = [
  {
    name: "dc1's instances stopped",
    available: true,
    apply: stopDc1Instances,
    restore: startDc1Instances,
  },
  {
    name: 'dc1 black-holed (packets dropped)',
    available: canDropPackets(),
    async apply() {
      for (const port of [dc1.httpPort, ...dc1Instances.map((instance) => instance.port)]) {
        dropLoopbackPort(port, true);
        blackHoled.push(port);
      }
    },
    async restore() {
      while (blackHoled.length > 0) dropLoopbackPort(blackHoled.pop() as number, false);
    },
  },
  {
    name: 'dc1 gone whole (Consul killed, instances stopped)',
    available: true,
    async apply() {
      await dc1.stop();
      await stopDc1Instances();
    },
    async restore() {
      // A new dev agent: it knows neither dc2 (a prepared query's Failover needs the WAN) nor the query.
      await dc1.restart();
      await consulPut(dc1.address, `/v1/agent/join/${dc2.wanAddress}?wan=1`, undefined);
      await untilFederated();
      await defineQuery(dc1, 'dc2');
      await startDc1Instances();
    },
  },
];

async function runEvent(client: InProcessClient, fault: Fault): Promise<EventFigures> {
  const before = client.stats.snapshot();
  const faultAt = Date.now();
  // Watched from the fault on: counters keep only each instance's last answer, and applying a fault can take a second.
  const movedToDc2 = firstAnswerFrom(client, 'dc2', faultAt);
  await fault.apply();
  const onDc2 = await movedToDc2;
  await sleep(HOLD_MS);
  await fault.restore();
  const wholeAt = Date.now();
  const onDc1 = await firstAnswerFrom(client, 'dc1', wholeAt);
  await sleep(HOLD_MS);
  const after = client.stats.snapshot();
  return {
    failoverMs: onDc2 === undefined ? undefined : onDc2 - faultAt,
    failbackMs: onDc1 === undefined ? undefined : onDc1 - wholeAt,
    calls: after.total - before.total,
    failed: after.failed - before.failed,
  };
}

function percentilesOf(values: readonly (number | undefined)[]): string {
  const known = values.filter((value): value is number => value !== undefined).sort((a, b) => a - b);
  const missing = values.length - known.length;
  const figures = known.length === 0 ? 'none' : `${quantile(known, 0.5)} / ${quantile(known, 0.99)}`;
  return missing > 0 ? `${figures} (${missing} never)` : figures;
}

const results: { target: string; fault: string; events: EventFigures[] }[] = [];
try {
  await untilFederated();
  await defineQuery(dc1, 'dc2');
  await defineQuery(dc2, 'dc1');
  for (const letter of ['a', 'b']) dc2Instances.push(await InProcessHello.start(dc2.address, `dc2-${letter}`));
  await startDc1Instances();

  for (const [setup, target] of Object.entries(TARGETS)) {
    const client = startClient({
      consulAddress: dc1.address,
      ratePerSecond: RATE,
      target,
      more: { consulDatacenters: { dc1: dc1.address, dc2: dc2.address } },
    });
    try {
      if ((await firstAnswerFrom(client, 'dc1', 0)) === undefined) throw new Error(`${setup}: no call reached dc1`);
      for (const fault of faults.filter((candidate) => candidate.available)) {
        const events: EventFigures[] = [];
        for (let i = 0; i < EVENTS; i += 1) events.push(await runEvent(client, fault));
        results.push({ target: setup, fault: fault.name, events });
        console.log(`${setup}, ${fault.name}: ${JSON.stringify(events)}`);
      }
    } finally {
      await client.stop();
    }
  }

  console.log(
    `\nFail-over and fail-back between two WAN-federated datacenters, demo client at ${RATE} calls/s, ${EVENTS} events per row; ms, p50 / p99\n`,
  );
  printTable(
    ['target', 'fault', 'fail-over', 'fail-back', 'calls', 'failed'],
    results.map(({ target, fault, events }) => [
      target,
      fault,
      percentilesOf(events.map((event) => event.failoverMs)),
      percentilesOf(events.map((event) => event.failbackMs)),
      String(events.reduce((sum, event) => sum + event.calls, 0)),
      String(events.reduce((sum, event) => sum + event.failed, 0)),
    ]),
  );
  for (const fault of faults) if (!fault.available) console.log(`\nnot measured: ${fault.name} (needs root and iptables)`);
  mkdirSync('reports/bench', { recursive: true });
  writeFileSync('reports/bench/multi-dc.json', JSON.stringify({ rate: RATE, eventsPerRow: EVENTS, results }, null, 2));
} finally {
  // Never leave a port of this machine black-holed, whatever failed.
  while (blackHoled.length > 0) dropLoopbackPort(blackHoled.pop() as number, false);
  await Promise.all([...dc1Instances, ...dc2Instances].map((instance) => instance.stop()));
  await dc2.stop();
  await dc1.stop();
}
