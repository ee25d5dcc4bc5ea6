import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BadInput } from './bad-input.js';
import { parseCliArgs } from './cli-args.js';
import { composeScope, stackScope } from './docker/labels.js';

/** `make chaos`'s flags: the defaults, and the first wrong flag named (BadInput: one line, exit 2). */
const badInput = (argv: string[]): string => {
  try {
    parseCliArgs(argv);
  } catch (error) {
    assert.ok(error instanceof BadInput, String(error));
    return error.message;
  }
  assert.fail(`accepted: ${argv.join(' ')}`);
};

test('no flags: the defaults, a random seed', () => {
  const args = parseCliArgs([]);
  assert.equal(args.seed, '');
  assert.equal(args.livePort, 9470);
  assert.deepEqual(args.scope, composeScope('grpc-consul-lab'));
  assert.deepEqual(
    { statsUrl: args.statsUrl, consulUrl: args.consulUrl, out: args.out },
    { statsUrl: 'http://127.0.0.1:9464', consulUrl: 'https://127.0.0.1:8501', out: 'reports/chaos' },
  );
  assert.deepEqual(parseCliArgs(['--stack', 'lab']).scope, stackScope('lab'));
});

test('--help is answered whatever else is wrong, but not an unknown flag', () => {
  assert.equal(parseCliArgs(['--help', '--seed', 'x', '--project', 'a', '--stack', 'b']).help, true);
  assert.match(badInput(['-h', '--bogus']), /^Unknown option '--bogus'.*\nusage: chaos /s);
});

test('each wrong flag is named, the first one in the order they are checked', () => {
  assert.equal(badInput(['--project', 'a', '--stack', 'b', '--seed', 'x']), '--project and --stack both given: a run has one scope');
  assert.equal(badInput(['--seed', '12345678901']), '--seed must be a whole number, got "12345678901"');
  assert.match(badInput(['--replay', 'j.json', '--scenario', 'freeze']), /^--replay runs the scenario and seed of the journal/);
  assert.equal(badInput(['--live-port', '65536']), '--live-port must be a port number (0 for none), got "65536"');
  assert.equal(badInput(['--consul-url', 'consul:8501']), '--consul-url must be an http URL, got "consul:8501"');
});
