import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';

/**
 * gRPC over mutual TLS between the client and the instances: both sides show
 * a certificate from the lab's CA, and the instances' certificate carries the
 * service's name (HelloService), which does not depend on their addresses.
 * The three files go together; none of them means plaintext (make local).
 * The variables that name them are in tls-env.ts.
 */
export interface TlsFiles {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export class TlsConfigError extends Error {}

/** The three files, read; undefined when none is set; TlsConfigError naming the problem otherwise. */
export function readTlsFiles(config: { TLS_CA_FILE: string; TLS_CERT_FILE: string; TLS_KEY_FILE: string }): TlsFiles | undefined {
  const files = { TLS_CA_FILE: config.TLS_CA_FILE, TLS_CERT_FILE: config.TLS_CERT_FILE, TLS_KEY_FILE: config.TLS_KEY_FILE };
  const set = Object.entries(files).filter(([, path]) => path !== '');
  if (set.length === 0) return undefined;
  if (set.length < 3) {
    const missing = Object.keys(files).filter((name) => files[name as keyof typeof files] === '');
    throw new TlsConfigError(`TLS needs TLS_CA_FILE, TLS_CERT_FILE and TLS_KEY_FILE together; ${missing.join(' and ')} not set`);
  }
  const read = (name: keyof typeof files): Buffer => {
    try {
      return readFileSync(files[name]);
    } catch (error) {
      throw new TlsConfigError(`cannot read ${name} ${files[name]}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  return { ca: read('TLS_CA_FILE'), cert: read('TLS_CERT_FILE'), key: read('TLS_KEY_FILE') };
}

/** Server side: our certificate, and clients must show one signed by the CA. */
export function serverCredentials(tls: TlsFiles | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], true);
}

/** Client side: the server's certificate must be signed by the CA and name the target's authority. */
export function channelCredentials(tls: TlsFiles | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.ca, tls.key, tls.cert);
}
