import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidTargetError, parseConsulTargetString } from '../src/discovery/target.js';

test("a bare target: agents from the options or environment, blocking queries with Consul's recommended 5 min wait", () => {
  assert.deepEqual(parseConsulTargetString('consul:///HelloService'), {
    spec: { service: 'HelloService', tags: [], consistency: 'default', mode: 'blocking', waitMs: 300_000, pollIntervalMs: 500 },
  });
});

test('agents in the authority, several tags, dc, near, a filter and stale reads with a maximum staleness', () => {
  const target = parseConsulTargetString(
    'consul://10.0.0.2:8500,10.0.0.3:8500/HelloService?tag=v2&tag=grpc&dc=eu-1&near=_agent&filter=Service.Meta.version%20%3D%3D%20%222%22&max-stale=30s&wait=1m',
  );
  assert.equal(target.address, '10.0.0.2:8500,10.0.0.3:8500');
  assert.deepEqual(target.spec, {
    service: 'HelloService',
    tags: ['v2', 'grpc'],
    dc: 'eu-1',
    near: '_agent',
    filter: 'Service.Meta.version == "2"',
    consistency: 'stale',
    maxStaleMs: 30_000,
    mode: 'blocking',
    waitMs: 60_000,
    pollIntervalMs: 500,
  });
});

test("agent-cached reads with max-age and stale-if-error; consistent reads; the seed's polling", () => {
  assert.deepEqual(parseConsulTargetString('consul:///S?cached&max-age=10s&stale-if-error=5m').spec.cached, {
    maxAgeMs: 10_000,
    staleIfErrorMs: 300_000,
  });
  assert.deepEqual(parseConsulTargetString('consul:///S?cached').spec.cached, {});
  assert.equal(parseConsulTargetString('consul:///S?consistency=consistent').spec.consistency, 'consistent');
  const poll = parseConsulTargetString('consul:///S?mode=poll&interval=250ms').spec;
  assert.equal(poll.mode, 'poll');
  assert.equal(poll.pollIntervalMs, 250);
});

test('limit: at most N instances, the nearest N with near', () => {
  const spec = parseConsulTargetString('consul:///S?near=_agent&limit=3').spec;
  assert.equal(spec.near, '_agent');
  assert.equal(spec.limit, 3);
  assert.equal(parseConsulTargetString('consul:///S').spec.limit, undefined);
});

test('one dc stays in the spec, as before; several are a priority order beside it, the spec without dc', () => {
  const one = parseConsulTargetString('consul:///S?dc=dc1');
  assert.equal(one.spec.dc, 'dc1');
  assert.equal(one.datacenters, undefined);
  const two = parseConsulTargetString('consul:///S?dc=dc1,dc2');
  assert.equal(two.spec.dc, undefined);
  assert.deepEqual(two.datacenters, { order: ['dc1', 'dc2'], merge: false });
  assert.deepEqual(parseConsulTargetString('consul:///S?dc=b,a,c&merge-dc').datacenters, { order: ['b', 'a', 'c'], merge: true });
});

test('query=NAME: a prepared query, polled every interval (500 ms unless told), cached through the agent when asked', () => {
  const target = parseConsulTargetString('consul:///S?query=hello-failover&dc=dc1,dc2&cached&max-age=1s&interval=250ms');
  assert.equal(target.preparedQuery, 'hello-failover');
  assert.deepEqual(target.datacenters, { order: ['dc1', 'dc2'], merge: false });
  assert.equal(target.spec.mode, 'poll');
  assert.equal(target.spec.pollIntervalMs, 250);
  assert.deepEqual(target.spec.cached, { maxAgeMs: 1_000 });
  assert.equal(parseConsulTargetString('consul:///S?query=q').spec.pollIntervalMs, 500);
});

for (const [target, reason] of [
  ['consul:///HelloService?dc=dc1,dc1', /^consul target: dc names datacenter "dc1" twice, in "dc1,dc1"$/],
  ['consul:///HelloService?dc=dc1,dc2,dc1', /dc names datacenter "dc1" twice/],
  ['consul:///HelloService?dc=dc1,,dc2', /dc lists an empty datacenter name in "dc1,,dc2"/],
  ['consul:///HelloService?dc=dc1,', /dc lists an empty datacenter name/],
  ['consul:///HelloService?dc=', /dc lists an empty datacenter name/],
  ['consul:///HelloService?dc=dc%201', /dc must be a datacenter name or a comma-separated list of them, got "dc 1"/],
  ['consul:///HelloService?dc=dc1&merge-dc', /merge-dc needs two or more datacenters in dc/],
  ['consul:///HelloService?query=q&tag=v1', /^consul target: tag cannot go with query: the prepared query "q" decides what it returns$/],
  ['consul:///HelloService?query=q&filter=x', /filter cannot go with query/],
  ['consul:///HelloService?query=q&mode=blocking', /mode cannot go with query/],
  ['consul:///HelloService?query=q&wait=1m', /wait cannot go with query/],
  ['consul:///HelloService?query=q&dc=a,b&merge-dc', /merge-dc cannot go with query/],
  ['consul:///HelloService?query=a%2Fb', /query must be a prepared query's name or id, got "a\/b"/],
  ['dns:///HelloService', /expected consul:/],
  ['consul:///', /service name/],
  ['consul:///Hello Service', /service name/],
  ['consul:///HelloService?mode=push', /mode must be "blocking" or "poll", got "push"/],
  ['consul:///HelloService?interval=soon&mode=poll', /interval must be a duration/],
  ['consul:///HelloService?wait=11m', /wait must be a duration from 1000ms to 600s/],
  ['consul:///HelloService?tags=v1', /unknown parameter "tags" \(known: tag, dc,/],
  ['consul:///HelloService?tag=', /tag must not be empty/],
  ['consul:///HelloService?dc=eu&dc=us', /dc is given more than once/],
  ['consul:///HelloService?consistency=eventual', /consistency must be default, stale or consistent/],
  ['consul:///HelloService?consistency=consistent&max-stale=5s', /max-stale needs consistency=stale/],
  ['consul:///HelloService?max-age=5s', /max-age and stale-if-error need cached/],
  ['consul:///HelloService?cached&consistency=consistent', /cannot be consistent/],
  ['consul:///HelloService?mode=poll&wait=1m', /wait is for blocking queries/],
  ['consul:///HelloService?interval=1s', /interval is for mode=poll/],
  ['consul:///HelloService?cached=yes', /cached takes no value/],
  ['consul:///HelloService?filter=', /filter must not be empty/],
  ['consul:///HelloService?limit=abc', /limit must be a whole number from 1 to 999999999, got "abc"/],
  ['consul:///HelloService?limit=0', /limit must be a whole number from 1 to 999999999, got "0"/],
  ['consul:///HelloService?limit=-2', /limit must be a whole number from 1 to 999999999, got "-2"/],
  ['consul:///HelloService?limit=1.5', /limit must be a whole number/],
  ['consul:///HelloService?limit=', /limit must be a whole number/],
  ['consul:///HelloService?near=_agent&nearest=3', /^consul target: unknown parameter "nearest" \(known: tag, dc, near, limit, /],
] as const) {
  test(`malformed target ${target} is refused with one clear reason`, () => {
    assert.throws(
      () => parseConsulTargetString(target),
      (error: unknown) =>
        error instanceof InvalidTargetError &&
        reason.test(error.message) &&
        error.message.startsWith('consul target: ') &&
        !error.message.includes('\n'),
    );
  });
}
