import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConsulDouble } from './support/consul-double.js';

/**
 * The resolver traces through grpc-js's own tracing, switched on as grpc-js's
 * are: GRPC_TRACE names the tracer, GRPC_VERBOSITY=DEBUG shows it. Read from
 * a child process, since grpc-js reads the variables when it loads.
 */
const CHILD = fileURLToPath(new URL('./support/trace-child.js', import.meta.url));
const doubles: ConsulDouble[] = [];
after(async () => {
  for (const double of doubles) await double.close();
});

const GRPC_LOGGING = ['GRPC_TRACE', 'GRPC_NODE_TRACE', 'GRPC_VERBOSITY', 'GRPC_NODE_VERBOSITY'];

/** This process's environment without any grpc-js tracing or verbosity setting, plus `extra`. */
function environment(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !GRPC_LOGGING.includes(name))), ...extra };
}

/** Runs trace-child.js on `target`; its stderr, once it exited 0. */
async function resolveInChild(target: string, env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn(process.execPath, [CHILD, target], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, `the child resolved the target; its stderr:\n${stderr}`);
  return stderr;
}

/** A Consul that fails once (No cluster leader), then answers one instance at index 7. */
async function consulFailingOnce(): Promise<ConsulDouble> {
  const consul = await ConsulDouble.start((n) =>
    n === 1 ? { status: 500, body: 'No cluster leader' } : n === 2 ? { index: 7, instances: [['a', 1]] } : { hang: true },
  );
  doubles.push(consul);
  return consul;
}

test('GRPC_TRACE=consul_resolver GRPC_VERBOSITY=DEBUG: a line in grpc-js format for each query, answer, push, error and backoff', async () => {
  const consul = await consulFailingOnce();
  const target = `consul://${consul.address}/S`;
  const stderr = await resolveInChild(target, environment({ GRPC_TRACE: 'consul_resolver', GRPC_VERBOSITY: 'DEBUG' }));
  const lines = stderr
    .split('\n')
    .filter((line) => line.includes(' | consul_resolver | '))
    .map((line) => {
      // grpc-js's trace format: "D <time> | v<grpc-js version> <pid> | <tracer> | <text>".
      assert.match(line, /^D \d{4}-\d\d-\d\dT\S+Z \| v1\.14\.\d+ \d+ \| consul_resolver \| /);
      return line.slice(line.indexOf(' | consul_resolver | ') + ' | consul_resolver | '.length);
    });
  const failure = `Consul at http://${consul.address} answered 500: No cluster leader`;
  const expected = [
    `resolver constructed for target ${target}`,
    'S: query sent',
    new RegExp(`^S: query failed \\(${failure}\\), next in \\d+ ms$`),
    `${target}: pushing error Consul query for S failed: ${failure}`,
    'S: query sent',
    `S: answer from http://${consul.address}, index 7, 1 passing`,
    `${target}: pushing 1 endpoints [a@127.0.0.1:1]`,
  ];
  assert.equal(lines.length >= expected.length, true, lines.join('\n'));
  expected.forEach((line, i) => {
    if (typeof line === 'string') assert.equal(lines[i], line, lines.join('\n'));
    else assert.match(lines[i] ?? '', line, lines.join('\n'));
  });
});

test('without GRPC_TRACE the resolver writes nothing', async () => {
  const consul = await consulFailingOnce();
  const stderr = await resolveInChild(`consul://${consul.address}/S`, environment({}));
  assert.equal(stderr, '');
});
