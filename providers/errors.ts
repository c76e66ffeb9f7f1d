/**
 * Every provider failure is classified once, here, into what the caller should do about it:
 * - retryable: try again later (5xx, 429, rate limits, network); `retryAfterMs` when the server said.
 * - permanent: retrying cannot help (forbidden, calendar gone, invalid request).
 * - auth: the stored grant is dead (invalid_grant, revoked); the link needs re-authorisation.
 */
export type ProviderErrorKind = 'retryable' | 'permanent' | 'auth';

export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    /** Provider's own code, e.g. `rateLimitExceeded`, `ErrorItemNotFound`, `invalid_grant`, `http_503`. */
    readonly code: string,
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const networkCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'ECONNABORTED',
]);

export function isNetworkError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && networkCodes.has(code);
}

export function classifyHttpStatus(status: number): ProviderErrorKind {
  if (status === 429 || status >= 500 || status === 408) return 'retryable';
  if (status === 401) return 'auth';
  return 'permanent';
}

/** Whatever was thrown, as a classified failure: anything unclassified is an internal error worth retrying. */
export function asProviderError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  return new ProviderError('retryable', 'internal', String((err as Error)?.message ?? err));
}

/** Why a consent could not be turned into a link; the API tells the person in the browser. */
export type ConnectFailureReason =
  | 'unreachable'
  | 'refused'
  | 'no_offline_access'
  | 'no_account_address'
  /** Consent by password: the server refused the username or password (401). */
  | 'wrong_credentials'
  /** Consent by password: no CalDAV server answered at that address. */
  | 'not_a_calendar_server';

/** The connect flow failed at the provider; `detail` is safe to log (status and error code, never a token). */
export class ConnectFailure extends Error {
  constructor(
    readonly reason: ConnectFailureReason,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(`connect failed: ${reason}`);
    this.name = 'ConnectFailure';
  }
}
