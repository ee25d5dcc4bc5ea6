import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';

/**
 * A gRPC service with no .proto: the request and answer are raw bytes, and
 * the answer is the server's name. With the standard health service, so
 * Consul's gRPC check can ask it too. Enough to see where calls go.
 */
const passThrough = (value: Buffer): Buffer => value;
const ECHO = {
  Say: {
    path: '/example.Echo/Say',
    requestStream: false,
    responseStream: false,
    requestSerialize: passThrough,
    requestDeserialize: passThrough,
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
  },
} satisfies grpc.ServiceDefinition;

export const EchoClient = grpc.makeGenericClientConstructor(ECHO, 'Echo') as unknown as new (
  target: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
) => grpc.Client & {
  Say(request: Buffer, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, answer?: Buffer) => void): void;
  Say(
    request: Buffer,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, answer?: Buffer) => void,
  ): void;
};

export interface EchoServer {
  readonly name: string;
  readonly port: number;
  readonly server: grpc.Server;
  readonly health: HealthImplementation;
  stop(): void;
}

/**
 * Serves Echo (answering `name`) and grpc.health.v1 on 127.0.0.1, SERVING for
 * each of `healthServices`: '' and `name` unless told; [''] is a stock health server.
 */
export async function startEchoServer(name: string, healthServices: readonly string[] = ['', name]): Promise<EchoServer> {
  const server = new grpc.Server();
  server.addService(ECHO, {
    Say: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.from(name)),
  });
  const health = new HealthImplementation(Object.fromEntries(healthServices.map((service) => [service, 'SERVING' as const])));
  health.addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { name, port, server, health, stop: () => server.forceShutdown() };
}

/** One Echo call: the answering server's name, or the error. */
export function say(client: InstanceType<typeof EchoClient>, deadlineMs = 3_000): Promise<string> {
  return new Promise((resolve, reject) =>
    client.Say(Buffer.from('hi'), { deadline: Date.now() + deadlineMs }, (error, answer) =>
      error ? reject(error) : resolve(answer?.toString() ?? ''),
    ),
  );
}
