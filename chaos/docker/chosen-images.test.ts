import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chosenImages, netfaultImage } from './chosen-images.js';

const dir = mkdtempSync(join(tmpdir(), 'chosen-images-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function envFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

test('reads the images ensure-images.sh records, its comment aside', () => {
  const file = envFile('full.env', '# Written by scripts/ensure-images.sh\nNODE_IMAGE=n:1\nCONSUL_IMAGE=c:2\nNETFAULT_IMAGE=f:3\n');
  assert.deepEqual(chosenImages(file), { NODE_IMAGE: 'n:1', CONSUL_IMAGE: 'c:2', NETFAULT_IMAGE: 'f:3' });
  assert.equal(netfaultImage({}, file), 'f:3');
});

test('NETFAULT_IMAGE in the environment wins over .env', () => {
  assert.equal(netfaultImage({ NETFAULT_IMAGE: 'mine:1' }, join(dir, 'absent.env')), 'mine:1');
});

test('no .env, or one without the helper, fails saying what to run', () => {
  assert.throws(() => netfaultImage({}, join(dir, 'absent.env')), /absent\.env: run make up first/);
  assert.throws(() => netfaultImage({}, envFile('old.env', 'NODE_IMAGE=n:1\n')), /names no NETFAULT_IMAGE: run make up again/);
});
