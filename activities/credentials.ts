import type { ProviderModule } from '../providers/types';
import { ProviderError } from '../providers/errors';
import type { ActivityDeps } from './deps';
import { startWebhookDelivery } from '../workflows/deliverWebhook/client';

export interface LinkRow {
  id: string;
  tenant_id: string;
  staff_id: string;
  provider: string;
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
export async function accessTokenFor(
  deps: ActivityDeps,
  link: LinkRow,
  provider: ProviderModule,
  marginMs = EXPIRY_MARGIN_MS,
): Promise<string> {
  const fresh = link.access_token_expires_at && link.access_token_expires_at.getTime() - Date.now() > marginMs;
  if (link.access_token_sealed && fresh) return deps.secrets.open(link.access_token_sealed);
  if (!link.refresh_token_sealed) throw new ProviderError('auth', 'no_refresh_token', 'link has no refresh token');
  const refreshToken = deps.secrets.open(link.refresh_token_sealed);
  // A dead grant surfaces as an 'auth' ProviderError; the caller marks the link.
  const grant = await provider.refreshAccess(refreshToken);
  await deps
    .db('calendar_links')
    .where({ id: link.id })
    .update({
      access_token_sealed: deps.secrets.seal(grant.accessToken),
      access_token_expires_at: grant.expiresAt,
      // Providers that rotate grants (Microsoft) answer a new one: keep the newest.
      ...(grant.refreshToken && grant.refreshToken !== refreshToken
        ? { refresh_token_sealed: deps.secrets.seal(grant.refreshToken) }
        : {}),
      updated_at: deps.db.fn.now(),
    });
  return grant.accessToken;
}

/** Forgets the cached access token (after a 401) so the next attempt refreshes it. */
export async function dropAccessToken(deps: ActivityDeps, linkId: string): Promise<void> {
  await deps
    .db('calendar_links')
    .where({ id: linkId })
    .update({ access_token_sealed: null, access_token_expires_at: null });
}

/** Moves an active (or still connecting) link to needs_reauth, once, and tells the CRM so someone asks the staff member to reconnect. */
export async function markNeedsReauth(deps: ActivityDeps, link: LinkRow, reason: string): Promise<void> {
  const changed = await deps
    .db('calendar_links')
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
