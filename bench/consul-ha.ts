import { mkdirSync, writeFileSync } from 'node:fs';
import { ConsulHttp } from '@grpc-consul-lab/consul-discovery';
import { freePort } from '@grpc-consul-lab/consul-discovery/testing';
import Docker from 'dockerode';
import { ComposeStack, labConsul, newProjectName } from '../e2e/support/compose-stack.js';
import { ROOT } from '../e2e/support/paths.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { pollUntil } from '../packages/runtime/poll.js';
import { HELLO_SERVICE_NAME } from '../packages/contracts/hello.js';

/**
 * Part of `make bench`: what losing the Raft leader, and the quorum, costs
 * with PROFILE=ha's three servers, for raft_multiplier 1 (production's
 * recommendation, our default) and 5 (Consul's default), in the same run.
 * For each event, the time from the fault (or from the quorum coming back)
 * to: a new leader; the first good answer to a default-consistency health
 * query (what a resolver that does not read stale waits for); the first
 * registration that reaches the catalog. And what the client's resolver
 * (stale reads, every server's address) sees: after a leader kill, the time
 * until a watch whose blocking query was on the killed server has its next
 * answer; during a quorum loss, how many stale queries were answered.
 * Measured, not asserted; printed and written to reports/bench/consul-ha.json.
 */
const REPEATS = 3;
const POLL_MS = 50;
const GIVE_UP_MS = 60_000;
const docker = new Docker();
const median = (values: number[]): number => {
  const finite = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  return finite[Math.floor((finite.length - 1) / 2)] ?? Number.NaN;
};

interface Server {
  readonly container: string;
  readonly url: string;
  readonly ip: string;
}

interface Timings {
  readonly newLeaderMs: number;
  readonly goodAnswerMs: number;
  readonly registrationMs: number;
  /** Why a probe never held within the minute: the last error it saw. */
  readonly unanswered?: Record<string, string>;
}

/** A client of one server, as the management token (the bench registers probes). */
function api(url: string): ConsulHttp {
  return labConsul(url, 'management', 1_000);
}

/** Polls `probe` until it holds; the time from `since`, or NaN with the last error in `errors[name]`. */
async function timeFrom(since: number, probe: () => Promise<boolean>, errors: Record<string, string> = {}, name = ''): Promise<number> {
  const held = await pollUntil(
    async () => {
      const holds = await probe().catch((error: unknown) => {
        errors[name] = (error as Error).message;
        return false;
      });
      return holds ? true : undefined;
    },
    { timeoutMs: Math.max(0, since + GIVE_UP_MS - Date.now()), everyMs: POLL_MS },
  );
  if (held) return Date.now() - since;
  errors[name] ??= 'never held, no error';
  return Number.NaN;
}

async function leaderOf(servers: readonly Server[]): Promise<string> {
  for (const server of servers) {
    const client = api(server.url);
    const leader = await client.leader().catch(() => '');
    client.close();
    if (leader !== '') return leader;
  }
  return '';
}

/** From `since`: a leader other than `oldLeader`, a default-consistency answer, a probe registered through `via` in the catalog. */
async function measureRecovery(
  since: number,
  survivors: readonly Server[],
  via: Server,
  oldLeader: string,
  probe: string,
): Promise<Timings> {
  const agent = api(via.url);
  // The agent may refuse (or not answer) while it has no leader to resolve the
  // token with; once accepted, the probe is in the catalog only when a leader commits it.
  let accepted = false;
  const register = async (): Promise<boolean> => {
    if (!accepted) {
      await agent.registerService({ name: probe, id: probe, address: '127.0.0.1', port: 1, tags: [], meta: {}, checks: [] });
      accepted = true;
    }
    return (await agent.healthService({ service: probe, consistency: 'default', passingOnly: false })).instances.length > 0;
  };
  const errors: Record<string, string> = {};
  const [newLeaderMs, goodAnswerMs, registrationMs] = await Promise.all([
    timeFrom(since, async () => {
      const leader = await leaderOf(survivors);
      return leader !== '' && leader !== oldLeader;
    }),
    timeFrom(
      since,
      async () => {
        await agent.healthService({ service: HELLO_SERVICE_NAME, consistency: 'default', passingOnly: false });
        return true;
      },
      errors,
      'answer',
    ),
    timeFrom(since, register, errors, 'registration'),
  ]);
  await agent.deregisterService(probe).catch(() => undefined);
  agent.close();
  const unanswered = Object.fromEntries(
    Object.entries(errors).filter(([name]) => Number.isNaN(name === 'answer' ? goodAnswerMs : registrationMs)),
  );
  return { newLeaderMs, goodAnswerMs, registrationMs, ...(Object.keys(unanswered).length > 0 && { unanswered }) };
}

async function serversOf(stack: ComposeStack, ports: readonly number[]): Promise<Server[]> {
  const names = ['consul-1', 'consul-2-1', 'consul-3-1'];
  return Promise.all(
    names.map(async (name, i) => {
      const container = `${stack.project}-${name}`;
      const info = await docker.getContainer(container).inspect();
      return { container, url: `https://127.0.0.1:${ports[i]}`, ip: Object.values(info.NetworkSettings.Networks)[0]?.IPAddress ?? '' };
    }),
  );
}

async function untilSteady(servers: readonly Server[]): Promise<void> {
  // A leader, and every server answering: the next event starts from a whole cluster.
  await timeFrom(Date.now(), async () => {
    for (const server of servers) {
      const client = api(server.url);
      const peers = await client
        .healthService({ service: 'consul', consistency: 'default', passingOnly: true })
        .finally(() => client.close());
      if (peers.instances.length < 3) return false;
    }
    return (await leaderOf(servers)) !== '';
  });
  await sleep(2_000);
}

/**
 * A watch as the resolver runs it, blocked on `on` (stale, every server given):
 * resolves with the time from `since()` to its first answer after its query failed.
 */
async function resolverWatch(servers: readonly Server[], on: Server, since: () => number): Promise<number> {
  const http = new ConsulHttp(
    {
      address: servers.map((server) => server.url).join(','),
      tls: { caFile: `${ROOT}/.secrets/ca.pem` },
      tokenFile: `${ROOT}/.secrets/hello-client.token`,
      env: {},
    },
    servers.indexOf(on),
  );
  const query = { service: HELLO_SERVICE_NAME, consistency: 'stale' as const };
  let { index } = await http.healthService(query);
  let failed = false;
  try {
    while (Date.now() - since() < GIVE_UP_MS || !failed) {
      try {
        index = (await http.healthService({ ...query, index, waitMs: 300_000 })).index;
        if (failed) return Date.now() - since();
      } catch {
        // As the watch does: back off, then start over without blocking (on the next server).
        failed = true;
        index = 0;
        await sleep(200);
      }
    }
    return Number.NaN;
  } finally {
    http.close();
  }
}

/** Stale health queries to `server` every 500 ms until `signal`: how many were answered, of how many. */
async function staleAnswers(server: Server, signal: AbortSignal): Promise<{ answered: number; asked: number }> {
  const client = api(server.url);
  let answered = 0;
  let asked = 0;
  while (!signal.aborted) {
    asked += 1;
    if (
      await client.healthService({ service: 'HelloService', consistency: 'stale' }).then(
        () => true,
        () => false,
      )
    )
      answered += 1;
    await sleep(500);
  }
  client.close();
  return { answered, asked };
}

const results: Record<
  string,
  {
    leaderKill: Timings[];
    quorumRestored: Timings[];
    resolverAfterLeaderKillMs: number[];
    staleDuringQuorumLoss: { answered: number; asked: number }[];
  }
> = {};
for (const multiplier of [1, 5]) {
  const ports = [await freePort(), await freePort(), await freePort()];
  const stack = await ComposeStack.start(newProjectName(`bench-raft${multiplier}`), {
    profile: 'ha',
    env: {
      RAFT_MULTIPLIER: String(multiplier),
      CALL_RATE: '50',
      CONSUL_UI_PORT: String(ports[0]),
      CONSUL_2_PORT: String(ports[1]),
      CONSUL_3_PORT: String(ports[2]),
    },
  });
  const runs = {
    leaderKill: [] as Timings[],
    quorumRestored: [] as Timings[],
    resolverAfterLeaderKillMs: [] as number[],
    staleDuringQuorumLoss: [] as { answered: number; asked: number }[],
  };
  try {
    const servers = await serversOf(stack, ports);
    for (let i = 0; i < REPEATS; i += 1) {
      await untilSteady(servers);
      const oldLeader = await leaderOf(servers);
      const victim = servers.find((server) => `${server.ip}:8300` === oldLeader) as Server;
      const survivors = servers.filter((server) => server !== victim);
      let killedAt = Number.POSITIVE_INFINITY;
      const resolver = resolverWatch(servers, victim, () => killedAt);
      await sleep(1_000);
      killedAt = Date.now();
      await docker.getContainer(victim.container).kill({ signal: 'SIGKILL' });
      runs.leaderKill.push(await measureRecovery(killedAt, survivors, survivors[0] as Server, oldLeader, `probe-kill-${multiplier}-${i}`));
      runs.resolverAfterLeaderKillMs.push(await resolver);
      await docker.getContainer(victim.container).start();

      await untilSteady(servers);
      const [kept, ...stopped] = servers as [Server, ...Server[]];
      await Promise.all(stopped.map((server) => docker.getContainer(server.container).stop({ t: 2 })));
      const lossOver = new AbortController();
      const stale = staleAnswers(kept, lossOver.signal);
      await sleep(10_000);
      lossOver.abort();
      runs.staleDuringQuorumLoss.push(await stale);
      const restoredAt = Date.now();
      await Promise.all(stopped.map((server) => docker.getContainer(server.container).start()));
      runs.quorumRestored.push(await measureRecovery(restoredAt, servers, kept, '', `probe-quorum-${multiplier}-${i}`));
    }
  } finally {
    await stack.down();
  }
  results[`raft_multiplier ${multiplier}`] = runs;
}

/** The median of the events that got there, and how many did not within the minute. */
const ms = (values: number[]): string => {
  const missed = values.filter((value) => Number.isNaN(value)).length;
  const typical = median(values);
  const shown = Number.isNaN(typical) ? `> ${GIVE_UP_MS / 1_000} s` : `${(typical / 1_000).toFixed(2)} s`;
  return missed === 0 ? shown : `${shown} (${missed} of ${values.length}: none in ${GIVE_UP_MS / 1_000} s)`;
};
console.log(`\nPROFILE=ha, 3 servers; median of ${REPEATS} events each (every value in reports/bench/consul-ha.json)\n`);
console.log(
  "| raft_multiplier | event | new leader | first default-consistency answer | first registration in the catalog | the client's resolver (stale) |",
);
console.log('|---|---|---|---|---|---|');
for (const [name, runs] of Object.entries(results)) {
  const answered = runs.staleDuringQuorumLoss.reduce((sum, run) => sum + run.answered, 0);
  const asked = runs.staleDuringQuorumLoss.reduce((sum, run) => sum + run.asked, 0);
  for (const [event, timings, resolver] of [
    ['leader SIGKILLed', runs.leaderKill, `next answer ${ms(runs.resolverAfterLeaderKillMs)} after its server was killed`],
    [
      'quorum back (2 servers started)',
      runs.quorumRestored,
      `during the 10 s without quorum: ${answered} of ${asked} stale queries answered`,
    ],
  ] as const) {
    console.log(
      `| ${name.split(' ')[1]} | ${event} | ${ms(timings.map((t) => t.newLeaderMs))} | ${ms(timings.map((t) => t.goodAnswerMs))} | ${ms(timings.map((t) => t.registrationMs))} | ${resolver} |`,
    );
  }
}
mkdirSync('reports/bench', { recursive: true });
writeFileSync('reports/bench/consul-ha.json', JSON.stringify(results, null, 2));
for (const [name, runs] of Object.entries(results)) {
  for (const timings of [runs.leaderKill, runs.quorumRestored]) {
    for (const { unanswered } of timings)
      if (unanswered) console.log(`${name}: no answer within the minute: ${JSON.stringify(unanswered)}`);
  }
}
console.log('\nwritten to reports/bench/consul-ha.json');
