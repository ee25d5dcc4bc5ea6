import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { eventually } from '../src/testing/eventually.js';
import * as grpc from '@grpc/grpc-js';
import { consulDiscoveryOptions, type DiscoveryEvent, parseConsulTargetString, registerConsulResolver } from '../src/index.js';
import { MAX_REPEATS, repetitions } from '../src/discovery/consul-weights.js';
import { ConsulDouble } from './support/consul-double.js';
import { EchoClient } from './support/echo-server.js';
import { recordingResolver } from './support/recording-listener.js';
import { recordingLogger } from './support/recording-logger.js';

/**
 * Bad input to `weights=consul`: a wrong value in the target, and Weights
 * that are not numbers in Consul's answer (a real agent refuses to register
 * those, so the Consul double gives them). No agent: these run in `make check`.
 */
registerConsulResolver();
const doubles: ConsulDouble[] = [];
after(async () => {
  for (const double of doubles) await double.close();
});

test('target: weights takes "consul" only; anything else is refused, naming it, when the client is made', () => {
  assert.equal(parseConsulTargetString('consul:///Hello?weights=consul').spec.weights, 'consul');
  assert.equal(parseConsulTargetString('consul:///Hello').spec.weights, undefined);
  assert.throws(() => parseConsulTargetString('consul:///Hello?weights=heavy'), {
    message: 'consul target: weights must be "consul" (Consul\'s service Weights), got "heavy"',
  });
  // Refused when the client is made, not later as a hang.
  assert.throws(() => new EchoClient('consul:///Hello?weights=2', grpc.credentials.createInsecure()), {
    message: /weights must be "consul"/,
  });
});

test('repetitions: weights divided by their gcd, the largest capped at MAX_REPEATS, none below 1 unless 0', () => {
  assert.deepEqual(repetitions([30, 10]), [3, 1]);
  assert.deepEqual(repetitions([5, 0, 5]), [1, 0, 1]);
  assert.deepEqual(repetitions([0, 0]), [0, 0]);
  assert.deepEqual(repetitions([1_000, 1, 500]), [MAX_REPEATS, 1, 50]);
});

test('Weights that are not numbers: one line naming the instance, the instance keeps its last good Weights, the channel keeps working', async () => {
  // Consul itself refuses such a registration; a proxy or another implementation might still answer it.
  const entry = (id: string, port: number, weights: unknown): object => ({
    Node: { Node: 'double', Address: '127.0.0.1' },
    Service: { ID: id, Address: '127.0.0.1', Port: port, Tags: [], Meta: {}, Weights: weights },
    Checks: [{ Status: 'passing' }],
  });
  const answers = [
    [entry('a', 1001, { Passing: 3, Warning: 1 }), entry('b', 1002, { Passing: 1, Warning: 1 })],
    [entry('a', 1001, 'heavy'), entry('b', 1002, { Passing: 1, Warning: 1 })],
    // b changes, a is still bad: pushed again, a not logged again.
    [entry('a', 1001, 'heavy'), entry('b', 1002, { Passing: 2, Warning: 1 })],
  ];
  const consul = await ConsulDouble.start((n) =>
    n <= answers.length ? { index: n * 10, body: JSON.stringify(answers[n - 1]) } : { hang: true },
  );
  doubles.push(consul);
  const logger = recordingLogger();
  const events: DiscoveryEvent[] = [];
  const { resolver, pushes } = recordingResolver(
    `consul://${consul.address}/S?weights=consul`,
    consulDiscoveryOptions({ logger, onEvent: (event) => events.push(event), tuning: { minQueryIntervalMs: 10 } }),
  );
  resolver.updateResolution();
  // The query after the last answer hangs: every answer was handled.
  assert.ok(await eventually(() => consul.requests.length > answers.length, 20_000, 10), `requests: ${consul.requests.length}`);
  resolver.destroy();
  const a = '127.0.0.1:1001';
  const b = '127.0.0.1:1002';
  assert.deepEqual(
    pushes.map((push) => ('endpoints' in push ? push.endpoints : push.error)),
    [
      [a, a, b, a],
      // a's Weights went bad: its last good ones (3) stay.
      [a, a, b, a],
      // b's changed, a's are still bad: 3 and 2, interleaved.
      [a, b, a, b, a],
    ],
  );
  const warnings = logger.lines.filter((line) => line.level === 'warn');
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.equal(
    warnings[0]?.message,
    'consul: Weights of S instance a refused: "heavy" is not an object; it is weighted 3 passing / 1 warning (its last good Weights, else Consul\'s default)',
  );
  assert.deepEqual(
    events.filter((event) => event.type === 'rejected'),
    [{ type: 'rejected', service: 'S', what: 'weights', instance: 'a', reason: '"heavy" is not an object' }],
  );
});
