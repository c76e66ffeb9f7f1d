import { ProviderError, classifyHttpStatus, isNetworkError, parseRetryAfter } from '../errors';

export interface GoogleOAuthClient {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

export interface AccessToken {
  accessToken: string;
  expiresAt: Date;
}

/** Trades a refresh token for an access token. Google leaves `refresh_token` out: keep the old one. */
export async function refreshGoogleAccessToken(client: GoogleOAuthClient, refreshToken: string): Promise<AccessToken> {
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
      }),
      signal: AbortSignal.timeout(15000),
    });
  } catch (err) {
    throw new ProviderError('retryable', isNetworkError((err as { cause?: unknown }).cause) ? 'network' : 'token_request_failed', String(err));
  }
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
  if (res.ok && body.access_token) {
    return { accessToken: body.access_token, expiresAt: new Date(Date.now() + (body.expires_in ?? 3600) * 1000) };
  }
  // A dead grant (revoked, expired, too many tokens) is a 400 invalid_grant: only the user can fix it.
  if (body.error === 'invalid_grant' || body.error === 'unauthorized_client') {
    throw new ProviderError('auth', body.error, body.error_description ?? 'refresh token rejected', res.status);
  }
  const kind = classifyHttpStatus(res.status);
  throw new ProviderError(kind === 'auth' ? 'permanent' : kind, body.error ?? `http_${res.status}`, body.error_description ?? `token endpoint answered ${res.status}`, res.status, parseRetryAfter(res.headers.get('retry-after')));
}
