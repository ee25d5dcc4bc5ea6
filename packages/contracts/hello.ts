import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/hello.js';

export type { HelloRequest__Output as HelloRequest } from './generated/hello/HelloRequest.js';
export type { HelloResponse__Output as HelloResponse } from './generated/hello/HelloResponse.js';
export type { HelloServiceClient, HelloServiceHandlers } from './generated/hello/HelloService.js';

/** The name servers register in Consul and clients resolve. */
export const HELLO_SERVICE_NAME = 'HelloService';
/** The fully qualified gRPC service name, used by the health protocol. */
export const HELLO_GRPC_SERVICE = 'hello.HelloService';

// dist/packages/contracts/hello.js -> <root>/proto/hello.proto; the images keep the same layout.
const PROTO_PATH = fileURLToPath(new URL('../../../proto/hello.proto', import.meta.url));

let loaded: ProtoGrpcType | undefined;

/** Loads proto/hello.proto once; the generated types describe its result. */
export function loadHelloProto(): ProtoGrpcType {
  if (!loaded) {
    const definition = protoLoader.loadSync(PROTO_PATH, {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    loaded = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return loaded;
}

/**
 * Who is answering: goes into every greeting and into response metadata. The
 * address is read at each call, so a greeting names the address the instance
 * is registered at now.
 */
export interface InstanceIdentity {
  readonly id: string;
  readonly address: string;
  readonly port: number;
}

/** Response metadata naming the instance that answered: the client counts calls per instance by it. */
export const INSTANCE_ID_METADATA_KEY = 'x-instance-id';

/** The greeting a server answers and a client checks: it names the caller and the instance that answered. */
export function greeting(name: string, instance: InstanceIdentity): string {
  return `Hello ${name}, from ${instance.id} at ${instance.address}:${instance.port}`;
}
