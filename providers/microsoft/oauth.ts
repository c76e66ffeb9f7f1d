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

export interface MicrosoftOAuthConfig extends OAuthClient {
  authorizeUrl: string;
  /** Graph base URL (without `/v1.0`): `/me` tells the mailbox's address. */
  graphBaseUrl: string;
}

/**
 * Calendar access that survives (offline_access: a refresh token) and User.Read for `GET /me`. The
 * same scopes on consent and on every refresh: a refresh must ask for what was consented to, or less.
 */
export const GRAPH_SCOPES = 'offline_access User.Read Calendars.ReadWrite';

// The grant is dead or needs the user: only they can fix it by connecting again.
const AUTH_ERRORS = new Set(['invalid_grant', 'interaction_required', 'consent_required', 'unauthorized_client']);

/** Trades a refresh token at the Microsoft identity platform's v2.0 token endpoint. Microsoft rotates refresh tokens: the new one is answered. */
export async function refreshMicrosoftAccessToken(client: OAuthClient, refreshToken: string): Promise<AccessGrant> {
  const { res, body } = await postRefreshGrant(client, refreshToken, { scope: GRAPH_SCOPES });
  if (res.ok && body.access_token) {
    return {
      accessToken: body.access_token,
      expiresAt: expiresAt(body),
      refreshToken: body.refresh_token || undefined,
    };
  }
  // error_description starts with the AADSTS code, e.g. "AADSTS70008: … expired due to inactivity".
  const description = body.error_description?.split(/ Trace ID:/)[0] ?? `token endpoint answered ${res.status}`;
  if (body.error && AUTH_ERRORS.has(body.error)) throw new ProviderError('auth', body.error, description, res.status);
  throw refreshFailure(res, body, description);
}

/** Microsoft's consent: the account picker (a person may have several), PKCE, the scopes asked again at redemption. */
export function microsoftConsent(config: MicrosoftOAuthConfig): OAuthConsent {
  return {
    authorizeUrl: (input) =>
      authorizeUrlOf(config.authorizeUrl, config.clientId, input, GRAPH_SCOPES, { prompt: 'select_account' }),
    async exchangeCode(input: CodeRedemption) {
      const tokens = await redeemCode(config, input, { scope: GRAPH_SCOPES });
      const me = `${config.graphBaseUrl.replace(/\/+$/, '')}/v1.0/me`;
      const accountEmail = await readAccountEmail(me, tokens.accessToken, (b) => b.mail || b.userPrincipalName);
      return { refreshToken: tokens.refreshToken, accountEmail };
    },
  };
}
