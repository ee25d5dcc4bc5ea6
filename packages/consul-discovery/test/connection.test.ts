import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { resolveConnection } from '../src/consul/connection.js';
import { ConsulConfigError, ConsulError } from '../src/consul/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'consul-connection-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('no options and no environment: the local agent over HTTP, anonymous', async () => {
  const connection = resolveConnection({ env: {} });
  assert.deepEqual(
    connection.endpoints.map((e) => e.url),
    ['http://127.0.0.1:8500'],
  );
  assert.equal(connection.tls, undefined);
  assert.equal(await connection.token.read(), undefined);
  assert.equal(connection.token.description, 'no token (anonymous)');
});

test("the consul CLI's variables: CONSUL_HTTP_ADDR with a scheme or CONSUL_HTTP_SSL, several agents, the CA, the server name", () => {
  writeFileSync(join(dir, 'ca.pem'), 'CA');
  const connection = resolveConnection({
    env: {
      CONSUL_HTTP_ADDR: 'consul-1:8501, consul-2:8501',
      CONSUL_HTTP_SSL: 'true',
      CONSUL_CACERT: join(dir, 'ca.pem'),
      CONSUL_TLS_SERVER_NAME: 'server.dc1.consul',
    },
  });
  assert.deepEqual(
    connection.endpoints.map((e) => e.url),
    ['https://consul-1:8501', 'https://consul-2:8501'],
  );
  assert.equal(connection.tls?.ca?.toString(), 'CA');
  assert.equal(connection.tls?.servername, 'server.dc1.consul');
  assert.equal(connection.tls?.rejectUnauthorized, true);
  assert.deepEqual(resolveConnection({ env: { CONSUL_HTTP_ADDR: 'https://c:8501' } }).endpoints[0]?.https, true);
  assert.equal(
    resolveConnection({ env: { CONSUL_HTTP_ADDR: 'https://c:8501', CONSUL_HTTP_SSL_VERIFY: 'false' } }).tls?.rejectUnauthorized,
    false,
  );
});

test("token precedence is the CLI's: token file option, token option, CONSUL_HTTP_TOKEN_FILE, CONSUL_HTTP_TOKEN; the file is read at every request", async () => {
  const file = join(dir, 'token');
  writeFileSync(file, 'from-file\n');
  const env = { CONSUL_HTTP_TOKEN: 'from-env', CONSUL_HTTP_TOKEN_FILE: file };
  assert.equal(await resolveConnection({ env: { CONSUL_HTTP_TOKEN: 'from-env' } }).token.read(), 'from-env');
  assert.equal(await resolveConnection({ env }).token.read(), 'from-file');
  assert.equal(await resolveConnection({ env, token: 'from-option' }).token.read(), 'from-option');
  const fromOption = resolveConnection({ env, token: 'from-option', tokenFile: file });
  assert.equal(await fromOption.token.read(), 'from-file');
  writeFileSync(file, 'replaced');
  assert.equal(await fromOption.token.read(), 'replaced', 'a replaced token is used at the next request');
  await assert.rejects(
    resolveConnection({ env: {}, tokenFile: join(dir, 'missing') }).token.read(),
    (error: unknown) => error instanceof ConsulError && error.kind === 'token' && /ENOENT/.test(error.message),
  );
});

test('the identity that shares watches never holds a secret, and differs by agent, token and TLS', () => {
  const a = resolveConnection({ env: {}, token: 'secret-token-a' });
  assert.ok(!a.identity.includes('secret-token-a'));
  assert.notEqual(a.identity, resolveConnection({ env: {}, token: 'secret-token-b' }).identity);
  assert.equal(a.identity, resolveConnection({ env: {}, token: 'secret-token-a' }).identity);
  assert.notEqual(a.identity, resolveConnection({ env: {}, token: 'secret-token-a', address: '127.0.0.1:8501' }).identity);
});

for (const [what, options, reason] of [
  ['a malformed address', { address: 'consul' }, /Consul address "consul" is not host:port or http\(s\):\/\/host:port/],
  ['a port out of range', { address: 'consul:99999' }, /is not host:port/],
  [
    'an unreadable CA file',
    { address: 'https://c:8501', tls: { caFile: '/nonexistent/ca.pem' } },
    /cannot read the CA certificate file \/nonexistent\/ca.pem/,
  ],
  ['a certificate without its key', { address: 'https://c:8501', tls: { cert: 'x' } }, /a client certificate needs its key/],
  ['CONSUL_HTTP_SSL that is not a boolean', { env: { CONSUL_HTTP_SSL: 'maybe' } }, /CONSUL_HTTP_SSL must be true or false, got "maybe"/],
] as const) {
  test(`${what} is refused with one clear reason`, () => {
    assert.throws(
      () => resolveConnection({ env: {}, ...options }),
      (error: unknown) => error instanceof ConsulConfigError && reason.test(error.message),
    );
  });
}
