import { refreshGoogleAccessToken } from '../providers/google/oauth';
import { refreshMicrosoftAccessToken, type MicrosoftTokens } from '../providers/microsoft/oauth';
import { ProviderError } from '../providers/errors';
import type { ActivityDeps } from './deps';
import { startWebhookDelivery } from '../workflows/deliverWebhook/client';

export interface LinkRow {
  id: string;
  tenant_id: string;
  staff_id: string;
  provider: 'google' | 'microsoft';
  account_email: string;
  calendar_id: string;
  status: string;
  status_reason?: string | null;
  refresh_token_sealed: string | null;
  access_token_sealed: string | null;
  access_token_expires_at: Date | null;
}

// Refresh a little early so a token never expires between the check and the call.
const EXPIRY_MARGIN_MS = 120_000;

/** A usable access token for the link, refreshed and re-sealed when it is about to expire. */
export async function accessTokenFor(deps: ActivityDeps, link: LinkRow, marginMs = EXPIRY_MARGIN_MS): Promise<string> {
  const fresh = link.access_token_expires_at && link.access_token_expires_at.getTime() - Date.now() > marginMs;
  if (link.access_token_sealed && fresh) return deps.secrets.open(link.access_token_sealed);
  if (!link.refresh_token_sealed) throw new ProviderError('auth', 'no_refresh_token', 'link has no refresh token');
  const refreshToken = deps.secrets.open(link.refresh_token_sealed);

  // A dead grant surfaces as an 'auth' ProviderError; the caller marks the link.
  let token: MicrosoftTokens;
  if (link.provider === 'google') {
    const { google } = deps.config;
    token = await refreshGoogleAccessToken({ tokenUrl: google.tokenUrl, clientId: google.clientId, clientSecret: google.clientSecret }, refreshToken);
  } else if (link.provider === 'microsoft') {
    const { microsoft } = deps.config;
    token = await refreshMicrosoftAccessToken({ tokenUrl: microsoft.tokenUrl, clientId: microsoft.clientId, clientSecret: microsoft.clientSecret }, refreshToken);
  } else {
    throw new ProviderError('permanent', 'provider_unsupported', `provider ${link.provider} is not available yet`);
  }
  await deps.db('calendar_links').where({ id: link.id }).update({
    access_token_sealed: deps.secrets.seal(token.accessToken),
    access_token_expires_at: token.expiresAt,
    // Microsoft rotates refresh tokens: keep the newest (Google sends none and keeps the old one).
    ...(token.refreshToken && token.refreshToken !== refreshToken ? { refresh_token_sealed: deps.secrets.seal(token.refreshToken) } : {}),
    updated_at: deps.db.fn.now(),
  });
  return token.accessToken;
}

/** Forgets the cached access token (after a 401) so the next attempt refreshes it. */
export async function dropAccessToken(deps: ActivityDeps, linkId: string): Promise<void> {
  await deps.db('calendar_links').where({ id: linkId }).update({ access_token_sealed: null, access_token_expires_at: null });
}

/** Moves an active (or still connecting) link to needs_reauth, once, and tells the CRM so someone asks the staff member to reconnect. */
export async function markNeedsReauth(deps: ActivityDeps, link: LinkRow, reason: string): Promise<void> {
  const changed = await deps.db('calendar_links')
    .where({ id: link.id })
    .whereIn('status', ['active', 'connecting'])
    .update({ status: 'needs_reauth', status_reason: reason, updated_at: deps.db.fn.now() });
  if (changed === 0) return;
  deps.logger.warn({ linkId: link.id, reason }, 'calendar link needs re-authorisation');
  await startWebhookDelivery(deps.temporal, deps.config.taskQueue, link.tenant_id, {
    type: 'link.needs_reauth',
    data: { linkId: link.id, staffId: link.staff_id, provider: link.provider, reason },
  });
}
