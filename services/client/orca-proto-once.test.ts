import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';

// grpc-js's ORCA module is not part of its public API; the patch under test is in it.
const orca = createRequire(import.meta.url)('@grpc/grpc-js/build/src/orca.js') as {
  createOrcaClient(channel: grpc.Channel): grpc.Client;
};

test('grpc-js parses the ORCA proto once, not again for each new subchannel (patches/README.md)', () => {
  // Each subchannel of weighted_round_robin with out-of-band load reports makes an ORCA client;
  // unpatched, each parsed orca.proto again (10-30 ms of blocked event loop before it connected).
  const channel = new grpc.Channel('127.0.0.1:1', grpc.credentials.createInsecure(), {});
  try {
    const first = orca.createOrcaClient(channel);
    const second = orca.createOrcaClient(channel);
    assert.equal(first.constructor, second.constructor, 'one client class: the proto was loaded once');
  } finally {
    channel.close();
  }
});
