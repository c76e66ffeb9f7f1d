import { ProviderError } from '../errors';
import { expiresAt, postRefreshGrant, refreshFailure, type OAuthClient } from '../oauth';

export type MicrosoftOAuthClient = OAuthClient;

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
  const { res, body } = await postRefreshGrant(client, refreshToken, { scope: GRAPH_CALENDAR_SCOPES });
  if (res.ok && body.access_token) {
    return { accessToken: body.access_token, expiresAt: expiresAt(body), refreshToken: body.refresh_token || undefined };
  }
  // error_description starts with the AADSTS code, e.g. "AADSTS70008: … expired due to inactivity".
  const description = body.error_description?.split(/ Trace ID:/)[0] ?? `token endpoint answered ${res.status}`;
  if (body.error && AUTH_ERRORS.has(body.error)) throw new ProviderError('auth', body.error, description, res.status);
  throw refreshFailure(res, body, description);
}
