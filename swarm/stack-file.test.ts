import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toStackFile } from './stack-file.js';

test('the stack file drops what Swarm refuses and keeps everything else', () => {
  const stack = toStackFile({
    name: 'grpc-consul-lab',
    'x-hardened': { read_only: true },
    services: {
      consul: {
        image: 'consul',
        profiles: ['ha'],
        ports: [{ target: 8501, published: '8502', mode: 'host' }],
        read_only: true,
      },
      hello: { image: 'hello:swarm', build: { context: '.' }, deploy: { replicas: 3 }, entrypoint: null, networks: { default: null } },
    },
    networks: { default: { name: 'grpc-consul-lab_default', driver: 'overlay' } },
    volumes: { 'consul-data': { name: 'grpc-consul-lab_consul-data' } },
    secrets: { 'ca.pem': { name: 'grpc-consul-lab_ca.pem', file: '/x/ca.pem' } },
    configs: { 'consul-server': { name: 'grpc-consul-lab_consul-server', file: '/x/server.hcl' } },
  });
  assert.deepEqual(stack, {
    services: {
      consul: { image: 'consul', ports: [{ target: 8501, published: 8502, mode: 'host' }], read_only: true },
      hello: { image: 'hello:swarm', deploy: { replicas: 3 }, networks: { default: {} } },
    },
    networks: { default: { driver: 'overlay' } },
    volumes: { 'consul-data': {} },
    secrets: { 'ca.pem': { file: '/x/ca.pem' } },
    configs: { 'consul-server': { file: '/x/server.hcl' } },
  });
});
