import { ProviderError } from '../errors';
import {
  authorizeUrlOf,
  expiresAt,
  postRefreshGrant,
  readAccountEmail,
  redeemCode,
  refreshFailure,
  type CodeRedemption,
  type OAuthClient,
} from '../oauth';
import type { AccessGrant, OAuthConsent } from '../types';

export interface GoogleOAuthConfig extends OAuthClient {
  authorizeUrl: string;
  revokeUrl: string;
  /** The Calendar API root: userinfo is served under it (and by the emulator). */
  apiRootUrl: string;
}

/** Calendar access that survives (a refresh token), and the account's address. */
const SCOPES = 'openid email https://www.googleapis.com/auth/calendar';

/** Trades a refresh token for an access token. Google leaves `refresh_token` out: keep the old one. */
export async function refreshGoogleAccessToken(client: OAuthClient, refreshToken: string): Promise<AccessGrant> {
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

/** The e-mail claim of an id_token straight from the token endpoint over TLS (OIDC Core 3.1.3.7: no signature check needed). */
function idTokenEmail(idToken: string | undefined): string | undefined {
  if (!idToken) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof claims.email === 'string' && claims.email.includes('@') ? claims.email.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/** Google's consent: offline access, a consent prompt (so a refresh token is always granted), PKCE. */
export function googleConsent(config: GoogleOAuthConfig): OAuthConsent {
  return {
    authorizeUrl: (input) =>
      authorizeUrlOf(config.authorizeUrl, config.clientId, input, SCOPES, {
        access_type: 'offline',
        prompt: 'consent',
        include_granted_scopes: 'true',
      }),
    async exchangeCode(input: CodeRedemption) {
      const tokens = await redeemCode(config, input);
      const root = config.apiRootUrl.endsWith('/') ? config.apiRootUrl : `${config.apiRootUrl}/`;
      const accountEmail =
        idTokenEmail(tokens.idToken) ??
        (await readAccountEmail(new URL('oauth2/v3/userinfo', root).toString(), tokens.accessToken, (b) => b.email));
      return { refreshToken: tokens.refreshToken, accountEmail };
    },
  };
}
