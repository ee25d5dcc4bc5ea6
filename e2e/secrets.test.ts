import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after } from 'node:test';
import { e2eTest as test } from '../packages/testing/timed-test.js';
import { ROOT } from './support/paths.js';

/**
 * scripts/ensure-secrets.sh, which `make up` runs: everything made once and
 * kept, readable only by its owner, and a certificate about to expire made
 * again (without touching the rest).
 */
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ensure = (): Promise<{ stdout: string }> =>
  run(join(ROOT, 'scripts/ensure-secrets.sh'), { env: { ...process.env, SECRETS_DIR: dir } });
const read = (name: string): string => readFileSync(join(dir, name), 'utf8');

test('secrets are made once and kept; a certificate that expires within a day is made again, the rest left alone', async () => {
  await ensure();
  assert.equal(statSync(dir).mode & 0o777, 0o700, 'the directory is readable by its owner only');
  const first = Object.fromEntries(
    ['ca.pem', 'hello.pem', 'client.pem', 'consul.pem', 'management.token', 'hello-server.token'].map((name) => [name, read(name)]),
  );
  assert.match(first['management.token'] ?? '', /^[0-9a-f-]{36}\n$/);
  assert.match(read('consul-acl.hcl'), /initial_management = "[0-9a-f-]{36}"/);

  const second = await ensure();
  assert.doesNotMatch(second.stdout, /made/, `a second run makes nothing:\n${second.stdout}`);
  for (const [name, content] of Object.entries(first)) assert.equal(read(name), content, `${name} kept`);

  // A hello certificate valid for one day only: "expires within a day".
  const consul = process.env.CONSUL_BIN ?? 'consul';
  const work = mkdtempSync(join(tmpdir(), 'secrets-short-'));
  try {
    await run(consul, ['tls', 'cert', 'create', '-client', '-days', '1', '-ca', join(dir, 'ca.pem'), '-key', join(dir, 'ca-key.pem')], {
      cwd: work,
    });
    await run('cp', [join(work, 'dc1-client-consul-0.pem'), join(dir, 'hello.pem')]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const third = await ensure();
  assert.match(third.stdout, /certificate hello made/);
  assert.notEqual(read('hello.pem'), first['hello.pem']);
  for (const name of ['ca.pem', 'client.pem', 'consul.pem', 'management.token']) assert.equal(read(name), first[name], `${name} kept`);
});
