import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before } from 'node:test';
import { ConsulError, ConsulHttp, type ConsulTlsOptions } from '@grpc-consul-lab/consul-discovery';
import { ConsulDevAgent, freePort } from '@grpc-consul-lab/consul-discovery/testing';
import { makeTestCertificates, type TestCertificates } from '../packages/testing/test-certificates.js';
import { test } from '../packages/testing/timed-test.js';

/**
 * The discovery library's Consul client over HTTPS against a real agent: its
 * reads (GETs of its own) and its writes (the `consul` client's) both go out
 * with the connection's TLS settings: its CA, its server name.
 */
let certificates: TestCertificates;
let other: TestCertificates;
let consul: ConsulDevAgent;
let address: string;

before(async () => {
  certificates = await makeTestCertificates();
  other = await makeTestCertificates();
  const httpsPort = await freePort();
  consul = await ConsulDevAgent.start({
    args: [
      '-hcl',
      `ports { https = ${httpsPort} } tls { defaults { ca_file = "${certificates.ca}", cert_file = "${certificates.consul.cert}", key_file = "${certificates.consul.key}" } }`,
    ],
  });
  address = `https://127.0.0.1:${httpsPort}`;
});

after(async () => {
  await consul?.stop();
  for (const made of [certificates, other]) if (made) rmSync(made.dir, { recursive: true, force: true });
});

function client(tls: ConsulTlsOptions): ConsulHttp {
  return new ConsulHttp({ address, tls, env: {} });
}

test("with the agent's CA and a name its certificate carries, writes and reads work", async () => {
  const http = client({ caFile: certificates.ca, serverName: 'server.dc1.consul' });
  try {
    await http.kvPut('lab/tls', 'over https');
    assert.deepEqual((await http.kvGet('lab/tls')).value, 'over https');
    assert.deepEqual(await http.kvKeys('lab/'), ['lab/tls']);
    const { instances } = await http.healthService({ service: 'consul' });
    assert.equal(instances.length, 1);
  } finally {
    http.close();
  }
});

for (const [what, tls] of [
  ['another CA', () => ({ caFile: other.ca })],
  ['a server name its certificate does not carry', () => ({ caFile: certificates.ca, serverName: 'nobody.example' })],
] as const) {
  test(`with ${what}, a write and each read fail as TLS errors`, async () => {
    const http = client(tls());
    const isTls = (error: unknown): boolean => error instanceof ConsulError && error.kind === 'tls';
    try {
      await assert.rejects(http.kvPut('lab/tls', 'x'), isTls);
      await assert.rejects(http.kvGet('lab/tls'), isTls);
      await assert.rejects(http.kvKeys('lab/'), isTls);
      await assert.rejects(http.healthService({ service: 'consul' }), isTls);
    } finally {
      http.close();
    }
  });
}
