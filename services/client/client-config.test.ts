import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EnvConfigError, parseEnv } from '../../packages/runtime/env-config.js';
import { clientEnvSpec } from './client-config.js';

test('CONSUL_DATACENTERS: unset is no datacenter of its own; set, the agents of each datacenter, several per datacenter allowed', () => {
  assert.deepEqual(parseEnv(clientEnvSpec, {}).CONSUL_DATACENTERS, {});
  assert.deepEqual(
    parseEnv(clientEnvSpec, { CONSUL_DATACENTERS: 'dc1=https://consul:8501;dc2=https://consul-dc2:8501,https://consul-dc2b:8501;' })
      .CONSUL_DATACENTERS,
    { dc1: 'https://consul:8501', dc2: 'https://consul-dc2:8501,https://consul-dc2b:8501' },
  );
});

for (const [value, reason] of [
  ['dc1', 'entry "dc1" is not dc=agent[,agent]'],
  ['dc 1=consul:8501', 'entry "dc 1=consul:8501": "dc 1" is not a datacenter name'],
  ['dc1=consul:8501;dc1=consul-b:8501', 'datacenter dc1 is given twice'],
  ['dc1=consul:8501;dc2=consul-dc2', 'datacenter dc2: Consul address "consul-dc2" is not host:port or http(s)://host:port'],
] as const) {
  test(`CONSUL_DATACENTERS=${value} is refused with one line naming what is wrong`, () => {
    assert.throws(
      () => parseEnv(clientEnvSpec, { CONSUL_DATACENTERS: value }),
      (error: unknown) =>
        error instanceof EnvConfigError && error.message === `invalid CONSUL_DATACENTERS: ${JSON.stringify(value)}: ${reason}`,
    );
  });
}

test('the call policy: weighted round robin with retries unless BALANCER and HEDGING_DELAY_MS say otherwise', () => {
  const shipped = parseEnv(clientEnvSpec, {});
  assert.equal(shipped.BALANCER, 'weighted_round_robin');
  assert.equal(shipped.HEDGING_DELAY_MS, undefined);
  const hedged = parseEnv(clientEnvSpec, { BALANCER: 'round_robin', HEDGING_DELAY_MS: '5' });
  assert.equal(hedged.BALANCER, 'round_robin');
  assert.equal(hedged.HEDGING_DELAY_MS, 5);
});

for (const [name, value] of [
  ['BALANCER', 'pick_first'],
  ['HEDGING_DELAY_MS', '0'],
  ['HEDGING_DELAY_MS', '5ms'],
] as const) {
  test(`${name}=${value} is refused with one line naming it`, () => {
    assert.throws(
      () => parseEnv(clientEnvSpec, { [name]: value }),
      (error: unknown) =>
        error instanceof EnvConfigError && error.message.startsWith(`invalid ${name}: "${value}"`) && !error.message.includes('\n'),
    );
  });
}
