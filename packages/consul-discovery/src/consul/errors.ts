/**
 * What went wrong when talking to Consul, sorted by what the caller should do
 * about it. Registration and discovery decide on `kind`, never on message text:
 * "ACL not found" is a refused token, not a lost registration.
 */
export type ConsulErrorKind =
  /** No answer: refused, reset, timed out, no route, name not resolved. Try another agent, back off. */
  | 'unreachable'
  /** The TLS handshake failed: wrong CA, wrong server name, expired certificate. A configuration error. */
  | 'tls'
  /** 401/403: the token does not exist or lacks the permission. Back off; the token may be fixed. */
  | 'acl'
  /** 404: Consul does not know the service or check (a dev agent restarted, or the agent reaped it). */
  | 'not-found'
  /** 5xx: Consul answered but could not serve (no cluster leader, say). */
  | 'server'
  /** Any other status, or a body that is not what the API documents. */
  | 'bad-response'
  /** The token file cannot be read. */
  | 'token'
  /**
   * Nothing was asked: the `consul:` target or the connection options cannot
   * work (an unknown parameter, a malformed address, an unreadable CA file).
   * Fix the configuration; `cause` holds the InvalidTargetError or ConsulConfigError.
   */
  | 'config';

export class ConsulError extends Error {
  constructor(
    readonly kind: ConsulErrorKind,
    message: string,
    readonly statusCode?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ConsulError';
  }
}

/** A configuration that cannot work: a malformed address, a certificate file that cannot be read. */
export class ConsulConfigError extends Error {
  override name = 'ConsulConfigError';
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

interface PapiResponseError {
  readonly isPapi?: boolean;
  /** papi could not decode the body as its content type says. */
  readonly isCodec?: boolean;
  readonly message?: string;
  readonly code?: string;
  readonly response?: { readonly statusCode?: number; readonly body?: unknown };
}

function bodyText(body: unknown): string {
  if (body === undefined || body === null) return '';
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : JSON.stringify(body);
  return text.trim().split('\n')[0]?.slice(0, 300) ?? '';
}

/** Consul answered with a status that is not an answer: what it said (first line), sorted by what to do. */
export function statusError(status: number, body: unknown, endpoint: string, reason?: string): ConsulError {
  const message = `Consul at ${endpoint} answered ${status}: ${bodyText(body) || reason || `HTTP ${status}`}`;
  if (status === 401 || status === 403) return new ConsulError('acl', message, status);
  if (status === 404) return new ConsulError('not-found', message, status);
  if (status >= 500) return new ConsulError('server', message, status);
  return new ConsulError('bad-response', message, status);
}

/** Turns what an HTTP request threw (the `consul` client's or consulGet's) into a ConsulError naming the agent that was asked. */
export function toConsulError(error: unknown, endpoint: string): ConsulError {
  if (error instanceof ConsulError) return error;
  const e = (error ?? {}) as PapiResponseError;
  const status = e.response?.statusCode;
  if (status !== undefined) return statusError(status, e.response?.body, endpoint, e.message);
  const code = e.code ?? '';
  const text = e.message ?? String(error);
  if (e.isCodec || error instanceof SyntaxError) {
    return new ConsulError('bad-response', `Consul at ${endpoint} sent a body that cannot be read: ${text}`);
  }
  if (TLS_CODES.has(code) || /certificate|ssl|tls/i.test(text)) {
    return new ConsulError('tls', `TLS with Consul at ${endpoint} failed: ${code ? `${code}: ` : ''}${text}`);
  }
  return new ConsulError('unreachable', `Consul at ${endpoint} did not answer: ${code && !text.includes(code) ? `${code}: ` : ''}${text}`);
}
