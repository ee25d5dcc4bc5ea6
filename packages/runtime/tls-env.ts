import { z } from 'zod';
import type { EnvSpec } from './env-config.js';

/**
 * The three TLS_* variables of both programs (see tls.ts for what the files
 * are for): all three given means mutual TLS, none of them plaintext. The
 * values are handed to readTlsFiles as they are.
 */
export const tlsEnvSpec = {
  TLS_CA_FILE: {
    description: "CA certificate (PEM) the other side's certificate must be signed by; empty: plaintext",
    default: '',
    schema: z.string(),
  },
  TLS_CERT_FILE: { description: "this side's certificate (PEM)", default: '', schema: z.string() },
  TLS_KEY_FILE: { description: "this side's private key (PEM)", default: '', schema: z.string() },
} satisfies EnvSpec;
