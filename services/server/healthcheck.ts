import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';
import { HELLO_GRPC_SERVICE } from '../lib/hello-proto.js';
import { channelCredentials, readTlsFiles } from '../lib/tls.js';

/**
 * The container HEALTHCHECK of a hello server: asks the server's own
 * grpc.health.v1 service whether HelloService is SERVING. Exit 0 when it is.
 * With TLS, it shows the instance's own certificate (it carries client use too).
 */
const port = Number(process.env.PORT ?? 50051);
const tls = readTlsFiles({
  TLS_CA_FILE: process.env.TLS_CA_FILE ?? '',
  TLS_CERT_FILE: process.env.TLS_CERT_FILE ?? '',
  TLS_KEY_FILE: process.env.TLS_KEY_FILE ?? '',
});
const definition = protoLoader.loadSync(protoPath, { keepCase: true, enums: String });
const { grpc: g } = grpc.loadPackageDefinition(definition) as unknown as {
  grpc: {
    health: {
      v1: {
        Health: new (
          address: string,
          credentials: grpc.ChannelCredentials,
          options?: grpc.ChannelOptions,
        ) => grpc.Client & {
          check(
            request: { service: string },
            options: grpc.CallOptions,
            callback: (error: grpc.ServiceError | null, response?: { status: string }) => void,
          ): void;
        };
      };
    };
  };
};
const client = new g.health.v1.Health(`127.0.0.1:${port}`, channelCredentials(tls), {
  // The certificate names the service, not an address.
  ...(tls && { 'grpc.ssl_target_name_override': process.env.TLS_SERVER_NAME || process.env.SERVICE_NAME || 'HelloService' }),
});
client.check({ service: HELLO_GRPC_SERVICE }, { deadline: Date.now() + 2_000 }, (error, response) => {
  const status = error ? error.message : (response?.status ?? 'no answer');
  process.stdout.write(`${HELLO_GRPC_SERVICE}: ${status}\n`);
  process.exit(status === 'SERVING' ? 0 : 1);
});
