import { ProviderError, classifyHttpStatus, isNetworkError, parseRetryAfter } from './errors';

export interface OAuthClient {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

export interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  error?: string;
  error_description?: string;
}

/**
 * Posts a refresh_token grant and answers the status and parsed body, whatever they are. Only a
 * request that never got an answer throws (retryable).
 */
export async function postRefreshGrant(
  client: OAuthClient, refreshToken: string, extra: Record<string, string> = {},
): Promise<{ res: Response; body: TokenResponse }> {
  let res: Response;
  try {
    res = await fetch(client.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: client.clientId,
        client_secret: client.clientSecret,
        ...extra,
      }),
      signal: AbortSignal.timeout(15000),
    });
  } catch (err) {
    throw new ProviderError('retryable', isNetworkError((err as { cause?: unknown }).cause) ? 'network' : 'token_request_failed', String(err));
  }
  const body = (await res.json().catch(() => ({}))) as TokenResponse;
  return { res, body };
}

export const expiresAt = (body: TokenResponse): Date => new Date(Date.now() + (body.expires_in ?? 3600) * 1000);

/**
 * A failed refresh that is not a dead grant. A 401/403 here means the app's own credentials are
 * wrong, which reconnecting the user cannot fix: permanent, not auth.
 */
export function refreshFailure(res: Response, body: TokenResponse, description: string): ProviderError {
  const kind = classifyHttpStatus(res.status);
  return new ProviderError(kind === 'auth' ? 'permanent' : kind, body.error ?? `http_${res.status}`, description, res.status, parseRetryAfter(res.headers.get('retry-after')));
}
