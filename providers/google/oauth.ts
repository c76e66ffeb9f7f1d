import { ProviderError } from '../errors';
import { expiresAt, postRefreshGrant, refreshFailure, type OAuthClient } from '../oauth';

export type GoogleOAuthClient = OAuthClient;

export interface AccessToken {
  accessToken: string;
  expiresAt: Date;
}

/** Trades a refresh token for an access token. Google leaves `refresh_token` out: keep the old one. */
export async function refreshGoogleAccessToken(client: GoogleOAuthClient, refreshToken: string): Promise<AccessToken> {
  const { res, body } = await postRefreshGrant(client, refreshToken);
  if (res.ok && body.access_token) return { accessToken: body.access_token, expiresAt: expiresAt(body) };
  // A dead grant (revoked, expired, too many tokens) is a 400 invalid_grant: only the user can fix it.
  if (body.error === 'invalid_grant' || body.error === 'unauthorized_client') {
    throw new ProviderError('auth', body.error, body.error_description ?? 'refresh token rejected', res.status);
  }
  throw refreshFailure(res, body, body.error_description ?? `token endpoint answered ${res.status}`);
}

/** Revokes a grant at Google's revoke endpoint (the refresh token and the access tokens it made). */
export async function revokeGoogleToken(revokeUrl: string, token: string): Promise<void> {
  const res = await fetch(revokeUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
    signal: AbortSignal.timeout(15000),
  });
  await res.body?.cancel();
  // 400 invalid_token: already revoked or expired, which is the state we want.
  if (!res.ok && res.status !== 400) throw new Error(`revoke answered ${res.status}`);
}
