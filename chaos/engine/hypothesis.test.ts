import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StatsSnapshot } from '../../packages/contracts/stats.js';
import { scenarioSchema } from '../scenario/schema.js';
import { checkServed } from './hypothesis.js';

const hypothesis = scenarioSchema.parse({ title: 't', method: [{ action: 'kill' }] }).hypothesis;
const now = 1_000_000;
const stats = { lastOkAtByInstance: { 'HelloService-aaa-50051': now - 100 } } as unknown as StatsSnapshot;
const live = [
  { instanceId: 'HelloService-aaa-50051', container: 'lab-hello-1' },
  { instanceId: 'HelloService-bbb-50066', container: 'lab-hello-p50066-1' },
];

test('a silent instance is named with its container and the address and status Consul holds for it', () => {
  const registrations = new Map([['HelloService-bbb-50066', [{ address: '192.168.240.3', port: 50066, status: 'critical' }]]]);
  const probe = checkServed({ hypothesis, live, stats, phase: 'after', at: now, registrations });
  assert.equal(probe.ok, false);
  assert.equal(
    probe.value,
    'silent: HelloService-bbb-50066 (container lab-hello-p50066-1; Consul has it at 192.168.240.3:50066, critical)',
  );
});

test('a silent instance Consul does not know, or a Consul not asked, says so', () => {
  assert.match(
    checkServed({ hypothesis, live, stats, phase: 'after', at: now, registrations: new Map() }).value,
    /lab-hello-p50066-1; Consul has no registration for it\)$/,
  );
  assert.match(checkServed({ hypothesis, live, stats, phase: 'after', at: now }).value, /lab-hello-p50066-1; Consul not asked\)$/);
});

test('every live instance served: the probe holds and names the count', () => {
  const served = { lastOkAtByInstance: { 'HelloService-aaa-50051': now, 'HelloService-bbb-50066': now } } as unknown as StatsSnapshot;
  const probe = checkServed({ hypothesis, live, stats: served, phase: 'before', at: now });
  assert.deepEqual({ ok: probe.ok, value: probe.value }, { ok: true, value: '2 of 2' });
});
