import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { eventually } from '../src/testing/eventually.js';
import { consulDiscoveryOptions, parseConsulTargetString } from '../src/index.js';
import { parseServiceConfig } from '../src/discovery/kv-service-config.js';
import { ConsulResolver } from '../src/discovery/consul-resolver.js';
import { ConsulDouble } from './support/consul-double.js';
import { recordingResolver } from './support/recording-listener.js';
import { recordingLogger } from './support/recording-logger.js';

/**
 * Bad input to `service-config`: a wrong key in the target, values that are
 * not a valid service config, a key the token may not read. (Real-agent
 * behaviour is in kv-service-config.test.ts.) No agent: these run in `make check`.
 */
const doubles: ConsulDouble[] = [];
after(async () => {
  for (const double of doubles) await double.close();
});
test('target: service-config takes a KV key, or no value for the default key; anything else is refused naming it', () => {
  assert.equal(parseConsulTargetString('consul:///Hello?service-config=grpc/hello.json').serviceConfigKey, 'grpc/hello.json');
  assert.equal(parseConsulTargetString('consul:///Hello?service-config').serviceConfigKey, 'grpc/service-config/Hello');
  assert.equal(parseConsulTargetString('consul:///Hello').serviceConfigKey, undefined);
  assert.throws(() => parseConsulTargetString('consul:///Hello?service-config=/abs'), {
    message: /consul target: service-config must be a Consul KV key .*got "\/abs"/,
  });
  assert.throws(() => parseConsulTargetString('consul:///Hello?service-config=a/../b'), {
    message: /service-config must be a Consul KV key/,
  });
});

test('a service config is validated as grpc-js validates its own, and refused where grpc-js would quietly fall back to pick_first', () => {
  const reason = (text: string): string => {
    const parsed = parseServiceConfig(text);
    return 'reason' in parsed ? parsed.reason : 'accepted';
  };
  assert.match(reason('{"loadBalancingConfig": ['), /^not JSON: /);
  assert.equal(reason('[]'), 'not a JSON object');
  assert.match(reason('{"loadBalancingConfig": {"round_robin": {}}}'), /Invalid service config/);
  assert.match(reason('{"methodConfig": [{"name": [{"service": "a"}], "timeout": "soon"}]}'), /Invalid method config/);
  assert.match(
    reason('{"loadBalancingConfig": [{"outlier_detection": {"interval": "1s", "child_policy": [{"round_robin": {}}]}}]}'),
    /^loadBalancingConfig outlier_detection: /,
  );
  assert.equal(
    reason('{"loadBalancingConfig": [{"no_such_policy": {}}]}'),
    'no load-balancing policy this grpc-js knows among no_such_policy',
  );
  assert.equal(reason('{"methodConfig": "often"}'), 'methodConfig is not a list (grpc-js would ignore it)');
  assert.equal(reason('{"loadBalancingPolicy": "round_robin"}'), 'loadBalancingPolicy is ignored by grpc-js; say loadBalancingConfig');
  // An unknown policy before a known one is skipped, as the service config spec says.
  assert.equal(reason('{"loadBalancingConfig": [{"no_such_policy": {}}, {"round_robin": {}}]}'), 'accepted');
  const methodsOnly = parseServiceConfig('{"methodConfig": [{"name": [{"service": "a"}], "timeout": "2s"}]}');
  assert.ok('config' in methodsOnly);
  assert.deepEqual(methodsOnly.config.loadBalancingConfig, [{ round_robin: {} }], "round robin, not grpc-js's pick_first");
});

test('a key Consul refuses to read (403): one line, and the instances go out with the default config, not held back for ever', async () => {
  const consul = await ConsulDouble.start((_n, request) =>
    request.path.startsWith('/v1/kv/') ? { status: 403, body: 'Permission denied' } : { index: 5, instances: [['a', 1001]] },
  );
  doubles.push(consul);
  const logger = recordingLogger();
  const { resolver, pushes } = recordingResolver(
    `consul://${consul.address}/S?service-config=grpc/s.json`,
    consulDiscoveryOptions({ logger, tuning: { backoff: { initialMs: 20, maxMs: 40 } } }),
  );
  resolver.updateResolution();
  const kvRequests = (): number => consul.requests.filter((request) => request.path.startsWith('/v1/kv/')).length;
  assert.ok(await eventually(() => kvRequests() > 3, 20_000, 10), 'the key is asked again with backoff');
  resolver.destroy();
  assert.deepEqual(
    pushes.map((push) => ('endpoints' in push ? push.endpoints : push.error)),
    [['127.0.0.1:1001']],
  );
  const warnings = logger.lines.filter((line) => line.level === 'warn').map((line) => line.message);
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.match(warnings[0] ?? '', /^consul: service config key grpc\/s\.json cannot be read: .*403.*; S keeps the default$/);
});

test('a channel that joins a key watch after Consul began failing gets the last good config, not the default', async () => {
  let kvReads = 0;
  const consul = await ConsulDouble.start((_n, request) => {
    if (!request.path.startsWith('/v1/kv/')) return { index: 5, instances: [['a', 1001]] };
    kvReads += 1;
    return kvReads === 1
      ? { index: 7, body: JSON.stringify([{ Value: Buffer.from('{"loadBalancingConfig":[{"pick_first":{}}]}').toString('base64') }]) }
      : { status: 500, body: 'boom' };
  });
  doubles.push(consul);
  const policies = (): { policies: string[]; resolver: ConsulResolver } => {
    const policies: string[] = [];
    const resolver = new ConsulResolver(
      { scheme: 'consul', authority: consul.address, path: 'S?service-config=grpc/s.json' },
      (_endpoints, _attributes, serviceConfig) => {
        policies.push(serviceConfig?.ok ? Object.keys(serviceConfig.value.loadBalancingConfig[0] ?? {}).join() : String(serviceConfig));
        return true;
      },
      consulDiscoveryOptions({ tuning: { minQueryIntervalMs: 10, backoff: { initialMs: 20, maxMs: 40 } } }),
    );
    resolver.updateResolution();
    return { policies, resolver };
  };
  const first = policies();
  assert.ok(await eventually(() => kvReads > 2, 20_000, 10), 'the key watch is failing now');
  const late = policies();
  assert.ok(await eventually(() => late.policies.length > 0, 20_000, 10), 'the late channel was told a config');
  first.resolver.destroy();
  late.resolver.destroy();
  assert.deepEqual(first.policies, ['pick_first']);
  assert.deepEqual(late.policies, ['pick_first']);
});
