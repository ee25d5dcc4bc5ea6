// Two gRPC servers register in Consul; a client finds them through a
// consul: target and balances round robin; then both drain and leave.
//
//   CONSUL_HTTP_ADDR=127.0.0.1:8500 node examples/round-robin.mjs
//
// Any Consul agent will do (`consul agent -dev`). No .proto is needed: the
// service below sends raw bytes, and each server answers with its name.
import * as grpc from '@grpc/grpc-js';
import { ConsulRegistrar, consulDiscoveryOptions, registerConsulResolver } from '@grpc-consul-lab/consul-discovery';

const bytes = (value) => value;
const echo = {
  Say: {
    path: '/example.Echo/Say',
    requestStream: false,
    responseStream: false,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
  },
};
const service = `example-echo-${process.pid}`;

async function startServer(name) {
  const server = new grpc.Server();
  server.addService(echo, { Say: (_call, reply) => reply(null, Buffer.from(name)) });
  const port = await new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  // A TTL check only: these servers have no grpc.health.v1 service for a gRPC check to ask.
  const registrar = new ConsulRegistrar({
    service: { name: service, id: `${service}-${name}`, port, address: '127.0.0.1' },
    checks: { ttlMs: 10_000 },
  });
  registrar.start();
  return { server, registrar };
}

const servers = [await startServer('alpha'), await startServer('beta')];

registerConsulResolver();
const Echo = grpc.makeGenericClientConstructor(echo, 'Echo');
let bothFound;
const found = new Promise((resolve) => (bothFound = resolve));
const client = new Echo(
  `consul:///${service}`,
  grpc.credentials.createInsecure(),
  consulDiscoveryOptions({
    onEvent: (event) => {
      if (event.type !== 'instances') return;
      console.log(`resolved: ${event.instances.map((i) => i.id).join(', ') || 'none'}`);
      if (event.instances.length === 2) bothFound();
    },
  }),
);
// The first call starts the watch; waitForReady lets it wait for the first registration.
const call = () =>
  new Promise((resolve, reject) =>
    client.Say(Buffer.from('hi'), new grpc.Metadata({ waitForReady: true }), { deadline: Date.now() + 10_000 }, (error, answer) =>
      error ? reject(error) : resolve(answer.toString()),
    ),
  );
await call();
await found;
const answers = [];
for (let i = 0; i < 6; i += 1) answers.push(await call());
console.log(`answers: ${answers.join(' ')}`);

client.close();
// drain(): out of rotation in Consul, a moment for clients to notice, then shut down and deregister.
await Promise.all(servers.map(({ server, registrar }) => registrar.drain({ server, propagationMs: 500, graceMs: 2_000 })));
console.log('drained');
