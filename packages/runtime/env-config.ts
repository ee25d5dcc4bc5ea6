import { ConsulConfigError, type ResolvedConnection, resolveConnection } from '@grpc-consul-lab/consul-discovery';
import { z } from 'zod';
import { TlsConfigError } from './tls.js';

/**
 * Configuration through environment variables, parsed and validated once at
 * a program's entry point into a typed object. Defaults are written as the
 * strings a user would type, and go through the same schema as user input.
 */
export interface EnvVarSpec<T extends z.ZodType = z.ZodType> {
  readonly description: string;
  /** Used when the variable is unset or empty; omit for required variables. */
  readonly default?: string;
  readonly schema: T;
}

export type EnvSpec = Record<string, EnvVarSpec>;
export type EnvConfig<S extends EnvSpec> = { [K in keyof S]: z.output<S[K]['schema']> };

export class EnvConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(`invalid ${variable}: ${reason}`);
  }
}

/** Parses `env` against `spec`; throws EnvConfigError naming the first bad variable. */
export function parseEnv<S extends EnvSpec>(spec: S, env: NodeJS.ProcessEnv): EnvConfig<S> {
  const result: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries(spec)) {
    const raw = env[name] === undefined || env[name] === '' ? variable.default : env[name];
    if (raw === undefined) throw new EnvConfigError(name, 'required but not set');
    const parsed = variable.schema.safeParse(raw);
    if (!parsed.success) {
      const reason = parsed.error.issues[0]?.message ?? 'invalid value';
      throw new EnvConfigError(name, `${JSON.stringify(raw)}: ${reason}`);
    }
    result[name] = parsed.data;
  }
  return result as EnvConfig<S>;
}

export function formatHelp(program: string, summary: string, spec: EnvSpec): string {
  const width = Math.max(...Object.keys(spec).map((name) => name.length));
  const lines = Object.entries(spec).map(([name, variable]) => {
    const fallback = variable.default === undefined ? '(required)' : `(default: ${variable.default || '""'})`;
    return `  ${name.padEnd(width)}  ${variable.description} ${fallback}`;
  });
  return `${program}: ${summary}\n\nConfigured through environment variables:\n${lines.join('\n')}\n`;
}

/** A program configured through environment variables, as its entry point describes it. */
export interface EnvProgram<S extends EnvSpec> {
  /** Its name: first on every line it prints. */
  readonly program: string;
  /** One line on what it does, under --help. */
  readonly summary: string;
  readonly spec: S;
  /** Its arguments (default: process.argv's): --help, or nothing. */
  readonly argv?: readonly string[];
  /** Where the variables are read (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The entry-point form: `--help` prints every variable with its default and
 * exits 0; a bad value prints one line naming the variable and exits 2.
 */
export function loadEnvConfigOrExit<S extends EnvSpec>({
  program,
  summary,
  spec,
  argv = process.argv.slice(2),
  env = process.env,
}: EnvProgram<S>): EnvConfig<S> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(formatHelp(program, summary, spec));
    process.exit(0);
  }
  const unknown = argv.find((arg) => arg !== '--');
  if (unknown !== undefined) {
    process.stderr.write(`${program}: unknown argument ${JSON.stringify(unknown)}; configure through environment variables (see --help)\n`);
    process.exit(2);
  }
  try {
    return parseEnv(spec, env);
  } catch (error) {
    if (error instanceof EnvConfigError) {
      process.stderr.write(`${program}: ${error.message} (see --help)\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** Errors that mean "the configuration cannot work": one line for the user, not a stack trace. */
const CONFIG_ERRORS = [ConsulConfigError, TlsConfigError, EnvConfigError];

/** Runs `read` (which reads or checks configuration); a configuration error prints one line naming it and exits 2. */
export function configOrExit<T>(program: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!CONFIG_ERRORS.some((kind) => error instanceof kind)) throw error;
    process.stderr.write(`${program}: ${(error as Error).message}\n`);
    process.exit(2);
  }
}

/**
 * How the program reaches Consul, from the CONSUL_* variables as the consul
 * CLI reads them; a value that cannot work (a CA file that is not there, say)
 * prints one line naming it and exits 2.
 */
export function consulConnectionOrExit(program: string, env: NodeJS.ProcessEnv = process.env): ResolvedConnection {
  return configOrExit(program, () => resolveConnection({ env }));
}

/** Schemas shared by both programs. */
export const envSchemas = {
  port: z.coerce.number().int().min(1).max(65535),
  positiveInt: z.coerce.number().int().positive(),
  nonNegativeInt: z.coerce.number().int().nonnegative(),
  positiveNumber: z.coerce.number().positive(),
  durationMs: z.coerce.number().int().min(1),
  ipv4: z.ipv4('expected an IPv4 address'),
  boolean: z.enum(['true', 'false']).transform((value) => value === 'true'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  logFormat: z.enum(['pretty', 'json']),
  /** Consul's own parser decides, so the program says no to exactly what the library would. */
  consulAddress: z.string().superRefine((value, context) => {
    try {
      resolveConnection({ address: value, env: {} });
    } catch (error) {
      if (!(error instanceof ConsulConfigError)) throw error;
      context.addIssue({ code: 'custom', message: error.message });
    }
  }),
  csv: z.string().transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  ),
} as const;
