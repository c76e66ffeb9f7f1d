import { stopImportChannels } from './busyImport';
import type { LinkRow } from './credentials';
import type { ActivityDeps } from './deps';
import { activityFailure } from './activityFailure';
import { actAsLink, isHeld } from './linkAccount';
import { notEndedBy } from '../lib/seriesQuery';
import { providerRegistry } from '../providers/registry';

/** The next page of a staff member's future appointments (ids only), in id order. */
export async function futureAppointmentsPage(
  deps: ActivityDeps,
  input: { tenantId: string; staffId: string; after?: string; limit: number },
): Promise<string[]> {
  return deps
    .db('appointments')
    .where({ tenant_id: input.tenantId })
    .whereRaw('staff_ids @> ?::text[]', [[input.staffId]])
    .whereNull('deleted_at')
    .where(notEndedBy(new Date()))
    .modify((q) => {
      if (input.after) q.where('id', '>', input.after);
    })
    .orderBy('id')
    .limit(input.limit)
    .pluck('id');
}

/** Appointments that still have an event (or an unfinished attempt) on the link's calendar. */
export async function appointmentsOnLink(
  deps: ActivityDeps,
  input: { tenantId: string; linkId: string; limit: number },
): Promise<string[]> {
  return (
    deps
      .db('appointment_targets')
      .where({ tenant_id: input.tenantId, link_id: input.linkId })
      // A failed removal (the grant is dead) will not succeed by asking again.
      .whereNotIn('state', ['removed', 'failed'])
      .orderBy('appointment_id')
      .limit(input.limit)
      .pluck('appointment_id')
  );
}

/** The end of a link: revoke the grant where the provider allows it, erase every token, mark it gone. */
export async function retireLink(deps: ActivityDeps, input: { tenantId: string; linkId: string }): Promise<void> {
  const link = await deps.db('calendar_links').where({ id: input.linkId, tenant_id: input.tenantId }).first();
  if (!link || link.status === 'disconnected') return;
  await stopImportChannels(deps, link, link.id);
  const revoke = link.refresh_token_sealed ? providerRegistry(deps.config).find(link.provider)?.revoke : undefined;
  if (revoke) {
    // Best effort: a grant that is already dead cannot be revoked twice, and erasing it is what matters.
    await revoke(deps.secrets.open(link.refresh_token_sealed)).catch((err) =>
      deps.logger.warn({ linkId: link.id, err: String(err) }, 'token revocation failed; erasing anyway'),
    );
  }
  await deps.db('calendar_links').where({ id: link.id }).update({
    status: 'disconnected',
    status_reason: 'disconnected by request',
    refresh_token_sealed: null,
    access_token_sealed: null,
    access_token_expires_at: null,
    updated_at: deps.db.fn.now(),
  });
}

/** The next page of appointments whose writes to the link are held (it needed re-authorisation), in id order. */
export async function heldAppointmentsPage(
  deps: ActivityDeps,
  input: { tenantId: string; linkId: string; after?: string; limit: number },
): Promise<string[]> {
  return deps
    .db('appointment_targets')
    .where({ tenant_id: input.tenantId, link_id: input.linkId, state: 'held' })
    .modify((q) => {
      if (input.after) q.where('appointment_id', '>', input.after);
    })
    .orderBy('appointment_id')
    .limit(input.limit)
    .pluck('appointment_id');
}

export interface TokenUpkeep {
  status: string;
  /** When the link's workflow should refresh next (epoch ms); absent unless the link is active. */
  refreshAt?: number;
}

/**
 * Keeps the link's access token fresh ahead of its expiry (so a grant revoked at the provider is
 * noticed without waiting for a write): refreshes when it expires within the configured margin,
 * and answers when to come back. A dead grant moves the link to needs_reauth.
 */
export async function keepTokenFresh(
  deps: ActivityDeps,
  input: { tenantId: string; linkId: string },
): Promise<TokenUpkeep> {
  const link: LinkRow | undefined = await deps
    .db('calendar_links')
    .where({ id: input.linkId, tenant_id: input.tenantId })
    .first();
  if (!link || link.status !== 'active') return { status: link?.status ?? 'gone' };
  const margin = deps.config.linkTokenRefreshAheadMs;
  try {
    // Acting as the account refreshes its token when it expires within the margin; nothing else is asked.
    await actAsLink(deps, link, async () => undefined, { refreshAheadMs: margin });
  } catch (err) {
    if (isHeld(err)) return { status: 'needs_reauth' };
    throw activityFailure(err);
  }
  const fresh = await deps.db('calendar_links').where({ id: link.id }).first('status', 'access_token_expires_at');
  const expiresAt = fresh?.access_token_expires_at ? new Date(fresh.access_token_expires_at).getTime() : Date.now();
  // Never sooner than a second from now: a token that lives shorter than the margin is not refreshed in a loop.
  return { status: fresh?.status ?? 'gone', refreshAt: Math.max(expiresAt - margin, Date.now() + 1000) };
}
