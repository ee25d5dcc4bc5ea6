import { execFile } from 'node:child_process';
import { mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HELLO_SERVICE_NAME } from '../contracts/hello.js';

const run = promisify(execFile);

/**
 * A CA and certificates made the way `make up` makes them (consul tls, from
 * CONSUL_BIN), in a temporary directory: for tests and benches that need
 * TLS between real processes, or a second CA to be refused.
 */
export interface TestCertificates {
  readonly dir: string;
  readonly ca: string;
  /** A Consul server's: server.dc1.consul, localhost, 127.0.0.1. */
  readonly consul: { readonly cert: string; readonly key: string };
  /** A HelloService instance's: names HelloService, client and server use. */
  readonly hello: { readonly cert: string; readonly key: string };
  /** A client's. */
  readonly client: { readonly cert: string; readonly key: string };
}

export async function makeTestCertificates(consulBinary = process.env.CONSUL_BIN ?? 'consul'): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), 'test-certificates-'));
  await run(consulBinary, ['tls', 'ca', 'create'], { cwd: dir });
  const make = async (name: string, kind: string, ...extra: string[]): Promise<{ cert: string; key: string }> => {
    await run(consulBinary, ['tls', 'cert', 'create', kind, '-ca', 'consul-agent-ca.pem', '-key', 'consul-agent-ca-key.pem', ...extra], {
      cwd: dir,
    });
    const prefix = `dc1-${kind.slice(1)}-consul-0`;
    renameSync(join(dir, `${prefix}.pem`), join(dir, `${name}.pem`));
    renameSync(join(dir, `${prefix}-key.pem`), join(dir, `${name}-key.pem`));
    return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
  };
  return {
    dir,
    ca: join(dir, 'consul-agent-ca.pem'),
    consul: await make('consul', '-server'),
    hello: await make('hello', '-client', '-additional-dnsname', HELLO_SERVICE_NAME),
    client: await make('client', '-cli'),
  };
}

/** The server program's environment for mutual TLS with these certificates. */
export function helloTlsEnv(certificates: TestCertificates): Record<string, string> {
  return { TLS_CA_FILE: certificates.ca, TLS_CERT_FILE: certificates.hello.cert, TLS_KEY_FILE: certificates.hello.key };
}

/** Consul agent arguments so its gRPC checks present its certificate, for instances that require one. */
export function consulTlsForChecks(certificates: TestCertificates): string[] {
  return [
    '-hcl',
    `tls { defaults { ca_file = "${certificates.ca}", cert_file = "${certificates.consul.cert}", key_file = "${certificates.consul.key}" } }`,
    '-hcl',
    'enable_agent_tls_for_checks = true',
  ];
}
