import { ConsulError, ConsulHttp, type ResolvedConnection } from '@grpc-consul-lab/consul-discovery';

/**
 * Asks Consul once: a CA or server name that does not fit Consul's
 * certificate will never work, so it is said in one line and the program
 * exits 2. (Consul merely not answering yet is no reason to stop: the
 * resolver waits for it.)
 */
export async function exitIfConsulTlsFails(consul: ResolvedConnection, program: string): Promise<void> {
  const probe = new ConsulHttp(consul);
  await probe
    .leader()
    .catch((error: unknown) => {
      if (error instanceof ConsulError && error.kind === 'tls') {
        process.stderr.write(`${program}: ${error.message} (check CONSUL_CACERT and CONSUL_TLS_SERVER_NAME)\n`);
        process.exit(2);
      }
    })
    .finally(() => probe.close());
}
