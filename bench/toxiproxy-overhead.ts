import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { ToxiproxyServer } from '../chaos/toxiproxy/toxiproxy-server.js';
import { type HelloServiceClient, loadHelloProto } from '../packages/contracts/hello.js';
import { createHelloServer, listen } from '../services/server/hello-server.js';
import { InstanceHealth } from '../services/server/instance-health.js';
import { quantile } from '../services/client/call-stats.js';
import { printTable } from './support/table.js';

/**
 * What Toxiproxy costs in a call's path when no toxic is set: SayHello on
 * loopback straight to the instance, and through a toxiproxy-server proxy in
 * front of it ($TOXIPROXY_BIN: scripts/ensure-toxiproxy.sh), in turns (direct,
 * proxy, direct, proxy) so that drift on a busy machine hits both alike.
 * Two loads: the stack's (200 calls/s, p50 and p99), and as many as 32 calls in
 * flight allow (calls/s and p99). The instance is a process of its own (this
 * file with `serve`), plaintext gRPC; three processes on two cores.
 * Measured, not asserted: `TOXIPROXY_BIN=… node dist/bench/toxiproxy-overhead.js`.
 */
const WINDOW_MS = Number(process.env.WINDOW_MS ?? 10_000);
const RATE = 200;
const IN_FLIGHT = 32;
const ROUNDS = 2;

interface Run {
  readonly path: 'direct' | 'toxiproxy';
  readonly load: string;
  readonly calls: number;
  readonly failed: number;
  readonly callsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function call(client: HelloServiceClient): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    client.SayHello({ name: 'bench', num1: 1, num2: 2 }, { deadline: Date.now() + 5_000 }, (error) =>
      error ? reject(error) : resolve(performance.now() - started),
    );
  });
}

/** Calls at `RATE` a second, each on its own, for the window; their latencies. */
async function fixedRate(client: HelloServiceClient): Promise<{ latencies: number[]; failed: number }> {
  const latencies: number[] = [];
  let failed = 0;
  const pending: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; performance.now() - started < WINDOW_MS; i += 1) {
    pending.push(
      call(client).then(
        (ms) => void latencies.push(ms),
        () => void (failed += 1),
      ),
    );
    const next = started + ((i + 1) * 1_000) / RATE;
    await sleep(Math.max(0, next - performance.now()));
  }
  await Promise.all(pending);
  return { latencies, failed };
}

/** IN_FLIGHT loops, each a call after the other, for the window. */
async function closedLoop(client: HelloServiceClient): Promise<{ latencies: number[]; failed: number }> {
  const latencies: number[] = [];
  let failed = 0;
  const ends = performance.now() + WINDOW_MS;
  const loop = async (): Promise<void> => {
    while (performance.now() < ends) {
      await call(client).then(
        (ms) => void latencies.push(ms),
        () => void (failed += 1),
      );
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, loop));
  return { latencies, failed };
}

async function measure(path: Run['path'], port: number, load: 'rate' | 'loop'): Promise<Run> {
  const Client = loadHelloProto().hello.HelloService;
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as HelloServiceClient;
  try {
    for (let i = 0; i < 200; i += 1) await call(client); // connect and warm up
    const { latencies, failed } = load === 'rate' ? await fixedRate(client) : await closedLoop(client);
    latencies.sort((a, b) => a - b);
    return {
      path,
      load: load === 'rate' ? `${RATE} calls/s` : `${IN_FLIGHT} in flight`,
      calls: latencies.length,
      failed,
      callsPerSecond: (latencies.length * 1_000) / WINDOW_MS,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
    };
  } finally {
    client.close();
  }
}

/** `serve`: the instance, on a free port of 127.0.0.1, which it prints; it runs until killed. */
async function serve(): Promise<void> {
  const instance = { id: 'HelloService-bench', address: '127.0.0.1', port: 0 };
  const health = new InstanceHealth(instance.id);
  const hello = createHelloServer({ instance, health });
  instance.port = await listen(hello.server, '127.0.0.1:0', grpc.ServerCredentials.createInsecure());
  health.markListening();
  console.log(instance.port);
}

if (process.argv[2] === 'serve') {
  await serve();
} else {
  await main();
}

async function main(): Promise<void> {
  const server = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [firstLine] = (await once(server.stdout, 'data')) as [Buffer];
  const port = Number(firstLine.toString().trim());
  const toxiproxy = await ToxiproxyServer.start();
  const runs: Run[] = [];
  try {
    const proxy = await toxiproxy.api.createProxy({ name: 'hello', listen: '127.0.0.1:0', upstream: `127.0.0.1:${port}` });
    const proxyPort = Number(proxy.listen.split(':').pop());
    for (const load of ['rate', 'loop'] as const) {
      for (let round = 0; round < ROUNDS; round += 1) {
        runs.push(await measure('direct', port, load));
        runs.push(await measure('toxiproxy', proxyPort, load));
      }
    }
  } finally {
    await toxiproxy.stop();
    server.kill();
  }

  console.log(`\nSayHello on loopback, no toxic, ${WINDOW_MS / 1_000} s per run, runs in turns\n`);
  printTable(
    ['load', 'path', 'calls/s', 'p50 ms', 'p99 ms', 'failed'],
    runs.map((run) => [run.load, run.path, run.callsPerSecond.toFixed(0), run.p50Ms.toFixed(2), run.p99Ms.toFixed(2), String(run.failed)]),
  );
  mkdirSync('reports/bench', { recursive: true });
  writeFileSync('reports/bench/toxiproxy-overhead.json', `${JSON.stringify(runs, null, 2)}\n`);
}
