import type { ResolvedConnection } from '@grpc-consul-lab/consul-discovery';
import { configOrExit, consulConnectionOrExit, type EnvConfig, type EnvProgram, type EnvSpec, loadEnvConfigOrExit } from './env-config.js';
import { readTlsFiles, type TlsFiles } from './tls.js';
import type { tlsEnvSpec } from './tls-env.js';

/** What the server and the client read at their start. */
export interface ProgramSettings<S extends EnvSpec> {
  readonly config: EnvConfig<S>;
  /** CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN(_FILE), CONSUL_CACERT… as the consul CLI reads them. */
  readonly consul: ResolvedConnection;
  /** Mutual TLS when the three TLS_* files are given; undefined: plaintext. */
  readonly tls: TlsFiles | undefined;
}

/**
 * A program's variables (`--help` lists them), how it reaches Consul and its
 * TLS files, each checked once: bad input prints one line naming it and
 * exits 2 (see loadEnvConfigOrExit and configOrExit).
 */
export function loadProgramSettingsOrExit<S extends EnvSpec & typeof tlsEnvSpec>(program: EnvProgram<S>): ProgramSettings<S> {
  const config = loadEnvConfigOrExit(program);
  const consul = consulConnectionOrExit(program.program);
  const tls = configOrExit(program.program, () => readTlsFiles(config));
  return { config, consul, tls };
}
