import { ProviderError, classifyHttpStatus, isNetworkError, parseRetryAfter } from '../errors';

export interface MicrosoftOAuthClient {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

export interface MicrosoftTokens {
  accessToken: string;
  expiresAt: Date;
  /** Microsoft returns a new refresh token with each refresh: store it (the old one may stop working later). */
  refreshToken?: string;
}

export const GRAPH_CALENDAR_SCOPES = 'offline_access https://graph.microsoft.com/Calendars.ReadWrite';

// The grant is dead or needs the user: only they can fix it by connecting again.
const AUTH_ERRORS = new Set(['invalid_grant', 'interaction_required', 'consent_required', 'unauthorized_client']);

/** Trades a refresh token at the Microsoft identity platform's v2.0 token endpoint. */
export async function refreshMicrosoftAccessToken(client: MicrosoftOAuthClient, refreshToken: string): Promise<MicrosoftTokens> {
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
        scope: GRAPH_CALENDAR_SCOPES,
      }),
      signal: AbortSignal.timeout(15000),
    });
  } catch (err) {
    throw new ProviderError('retryable', isNetworkError((err as { cause?: unknown }).cause) ? 'network' : 'token_request_failed', String(err));
  }
  const body = (await res.json().catch(() => ({}))) as {
    access_token?: string; refresh_token?: string; expires_in?: number; error?: string; error_description?: string;
  };
  if (res.ok && body.access_token) {
    return {
      accessToken: body.access_token,
      expiresAt: new Date(Date.now() + (body.expires_in ?? 3600) * 1000),
      refreshToken: body.refresh_token || undefined,
    };
  }
  // error_description starts with the AADSTS code, e.g. "AADSTS70008: … expired due to inactivity".
  const description = body.error_description?.split(/ Trace ID:/)[0] ?? `token endpoint answered ${res.status}`;
  if (body.error && AUTH_ERRORS.has(body.error)) throw new ProviderError('auth', body.error, description, res.status);
  const kind = classifyHttpStatus(res.status);
  throw new ProviderError(kind === 'auth' ? 'permanent' : kind, body.error ?? `http_${res.status}`, description, res.status, parseRetryAfter(res.headers.get('retry-after')));
}
