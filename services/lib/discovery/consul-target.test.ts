import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidTargetError, parseConsulTargetString } from './consul-target.js';

test('a target naming no Consul uses CONSUL_HTTP_ADDR, blocking mode, 60 s wait', () => {
  const target = parseConsulTargetString('consul:///HelloService', { CONSUL_HTTP_ADDR: 'consul:8500' });
  assert.deepEqual(target, {
    consul: { host: 'consul', port: 8500 },
    service: 'HelloService',
    mode: 'blocking',
    pollIntervalMs: 500,
    waitMs: 60_000,
  });
});

test('authority, tag, dc and poll mode are read from the target', () => {
  const target = parseConsulTargetString('consul://10.0.0.2:8501/HelloService?tag=v1&dc=eu&mode=poll&interval=250ms', {});
  assert.equal(target.consul.host, '10.0.0.2');
  assert.equal(target.consul.port, 8501);
  assert.equal(target.tag, 'v1');
  assert.equal(target.dc, 'eu');
  assert.equal(target.mode, 'poll');
  assert.equal(target.pollIntervalMs, 250);
});

for (const [target, reason] of [
  ['dns:///HelloService', /expected consul:/],
  ['consul:///', /service name/],
  ['consul:///Hello Service', /service name/],
  ['consul://consul/HelloService', /host:port/],
  ['consul://consul:99999/HelloService', /host:port/],
  ['consul:///HelloService?mode=push', /mode/],
  ['consul:///HelloService?interval=soon', /interval/],
  ['consul:///HelloService?wait=11m', /wait/],
  ['consul:///HelloService?tags=v1', /unknown consul target parameter "tags"/],
] as const) {
  test(`malformed target ${target} is refused with a clear reason`, () => {
    assert.throws(
      () => parseConsulTargetString(target, {}),
      (error: unknown) => error instanceof InvalidTargetError && reason.test(error.message),
    );
  });
}
