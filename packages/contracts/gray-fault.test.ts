import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeGrayFault, faultKey, parseGrayFault } from './gray-fault.js';

test('a gray fault parses from its JSON with defaults, and says what it is', () => {
  assert.deepEqual(parseGrayFault('{"kind":"slow","delayMs":300}'), { kind: 'slow', delayMs: 300, jitterMs: 0 });
  assert.deepEqual(parseGrayFault('{"kind":"flaky","ratio":0.5}'), { kind: 'flaky', ratio: 0.5, code: 'UNAVAILABLE' });
  assert.equal(describeGrayFault({ kind: 'flaky', ratio: 0.5, code: 'INTERNAL' }), 'flaky: 50 % of calls answered INTERNAL');
  assert.equal(faultKey('HelloService-a-1'), 'grpc-consul-lab/faults/HelloService-a-1');
});

test('a value that is no fault is an error naming what is wrong', () => {
  assert.equal((parseGrayFault('slow') as Error).message, 'not JSON: slow');
  assert.match((parseGrayFault('{"kind":"flaky","ratio":2}') as Error).message, /^ratio: /);
  assert.match((parseGrayFault('{"kind":"melt"}') as Error).message, /^kind: /);
  assert.match((parseGrayFault('{"kind":"corrupt","extra":1}') as Error).message, /extra|Unrecognized/);
});
