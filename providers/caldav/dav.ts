import { OutboundRefused, outboundFetch } from '../../lib/outbound';
import { ProviderError, isNetworkError, parseRetryAfter } from '../errors';
import type { ProviderSession } from '../types';
import type { CalDavConfig } from './config';

/**
 * What calsync keeps of a CalDAV account, sealed like a refresh token: where the account lives
 * (found once, at connect) and the (app-specific) password. Only activities open it.
 */
export interface CalDavSecret {
  v: 1;
  serverUrl: string;
  username: string;
  password: string;
  principalUrl: string;
  homeUrl: string;
}

export function parseSecret(secret: string): CalDavSecret {
  let parsed: Partial<CalDavSecret>;
  try {
    parsed = JSON.parse(secret) as Partial<CalDavSecret>;
  } catch {
    throw new ProviderError('auth', 'invalid_credentials', 'the stored CalDAV credentials cannot be read');
  }
  if (parsed.v !== 1 || typeof parsed.homeUrl !== 'string' || typeof parsed.password !== 'string')
    throw new ProviderError('auth', 'invalid_credentials', 'the stored CalDAV credentials are incomplete');
  return parsed as CalDavSecret;
}

export const basicAuth = (username: string, password: string): string =>
  `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;

/** How a request's answer is judged before the caller reads it; statuses the caller handles pass through. */
function classify(res: Response, operation: string): void {
  const status = res.status;
  if (status === 401)
    // No refresh exists for a password: a 401 means the person must enter it again.
    throw new ProviderError(
      'auth',
      'invalid_credentials',
      `${operation}: the server refused the credentials (401)`,
      401,
    );
  if (status === 429 || status === 408 || status >= 500) {
    // RFC 4918 §11.5: 507 means the account is out of space; retrying does not make room.
    if (status === 507)
      throw new ProviderError(
        'permanent',
        'insufficient_storage',
        `${operation}: the calendar account is full (507)`,
        507,
      );
    throw new ProviderError(
      'retryable',
      `http_${status}`,
      `${operation}: the server answered ${status}`,
      status,
      parseRetryAfter(res.headers.get('retry-after')),
    );
  }
}

/** The methods that change something, counted by the request metrics under their own name. */
const operationOf = (method: string | undefined, url: string): string =>
  `${(method ?? 'GET').toUpperCase()} ${url.endsWith('/') ? 'collection' : 'resource'}`;

/**
 * One account's requests: Basic auth on each, the account's pacing before each, the outbound
 * rules for tenant-chosen addresses, and every failure classified here, once (401 → auth,
 * 5xx/429 → retryable with Retry-After, 507 → permanent). Answers the caller handles itself
 * (404, 409, 412, 403 on a sync token) come back as they are.
 */
export function davFetch(
  config: CalDavConfig,
  credentials: { username: string; password: string },
  session: Partial<Pick<ProviderSession, 'pace' | 'timeoutMs' | 'onRequest'>> = {},
): typeof fetch {
  const timeoutMs = session.timeoutMs ?? 30_000;
  const send = outboundFetch(
    { allowedHosts: config.allowedHosts },
    { maxResponseBytes: config.maxResponseBytes, timeoutMs },
  );
  const authorization = basicAuth(credentials.username, credentials.password);
  return async (input, init = {}) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const operation = operationOf(init.method, url);
    const headers = new Headers(init.headers);
    headers.set('authorization', authorization);
    await session.pace?.();
    const started = process.hrtime.bigint();
    let res: Response;
    try {
      res = await send(url, { ...init, headers, redirect: 'manual' });
    } catch (err) {
      if (err instanceof OutboundRefused)
        throw new ProviderError('permanent', 'outbound_refused', `${operation}: ${err.message}`);
      const cause = (err as { cause?: unknown }).cause ?? err;
      throw new ProviderError(
        'retryable',
        isNetworkError(cause) ? 'network' : 'request_failed',
        `${operation}: ${(err as Error).message}`,
      );
    } finally {
      session.onRequest?.(operation, Number(process.hrtime.bigint() - started) / 1e9);
    }
    classify(res, operation);
    return res;
  };
}

/** An href from a multistatus answer as an absolute URL on the server it came from. */
export const absolute = (href: string, base: string): string => new URL(href, base).href;

/** The last path segment of a URL, decoded: a resource's file name. */
export function lastSegment(url: string): string {
  const parts = new URL(url).pathname.split('/').filter(Boolean);
  return decodeURIComponent(parts.at(-1) ?? '');
}
