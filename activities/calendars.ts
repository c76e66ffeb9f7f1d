import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { CalendarApi } from '../providers/types';
import type { LinkRow } from './credentials';
import type { ActivityDeps } from './deps';
import { linkActivity, providerOfLink } from './linkAccount';

type LinkCalendarRow = LinkRow & { calendar_owned: boolean; calendar_ready: boolean; calendar_marker: string | null };

export interface ProvisionedCalendar {
  calendarId: string;
  /** calsync made it: disconnecting with `remove` deletes it as a whole. */
  owned: boolean;
}

async function loadLink(deps: ActivityDeps, input: { tenantId: string; linkId: string }): Promise<LinkCalendarRow> {
  const link = await deps.db('calendar_links').where({ id: input.linkId, tenant_id: input.tenantId }).first();
  if (!link) throw ApplicationFailure.nonRetryable(`link ${input.linkId} not found`, 'link_not_found');
  return link;
}

/**
 * The link's target calendar, made ready once: the primary calendar (tenant setting
 * `calendarMode: primary`) or a dedicated one named after the business. Idempotent: a calendar
 * already provisioned is answered as it is, and an existing dedicated calendar of that name is
 * found before one is made, so a retry whose first answer was lost never makes a second.
 */
export async function provisionCalendar(
  deps: ActivityDeps,
  input: { tenantId: string; linkId: string },
): Promise<ProvisionedCalendar> {
  const link = await loadLink(deps, input);
  if (link.calendar_ready || link.status === 'disconnecting' || link.status === 'disconnected') {
    return { calendarId: link.calendar_id, owned: link.calendar_ready && link.calendar_owned };
  }
  const tenant = await deps.db('tenants').where({ id: input.tenantId }).first('name', 'settings');
  let calendarId = providerOfLink(deps, link).defaultCalendarId(link.account_email);
  let owned = false;
  if ((tenant?.settings?.calendarMode ?? 'dedicated') === 'dedicated') {
    const name: string = tenant?.settings?.businessName ?? tenant?.name ?? 'calsync';
    const marker = await calendarMarkerOf(deps, link);
    const found = await onCalendar(deps, link, async (provider) => {
      const ours = await provider.findCalendar(name, marker);
      return ours ? { calendarId: ours, owned: true } : provider.createCalendar(name, marker);
    });
    ({ calendarId, owned } = found);
    if (!owned)
      deps.logger.warn(
        { linkId: link.id },
        "the account already has a calendar of the business's name that calsync did not make: its events go there, and disconnecting never deletes it",
      );
  }
  await deps
    .db('calendar_links')
    .where({ id: link.id })
    .update({
      calendar_id: calendarId,
      calendar_owned: owned,
      calendar_ready: true,
      // Appointment workflows write to the link from here on (a link that meanwhile needs
      // re-authorisation or is being disconnected keeps that status).
      status: deps.db.raw("case when status = 'connecting' then 'active' else status end"),
      updated_at: deps.db.fn.now(),
    });
  deps.logger.info({ linkId: link.id, owned }, 'link calendar ready');
  return { calendarId, owned };
}

/** Disconnect with `remove`: the dedicated calendar goes as a whole, calsync's events with it. */
export async function deleteLinkCalendar(
  deps: ActivityDeps,
  input: { tenantId: string; linkId: string },
): Promise<string> {
  const link = await loadLink(deps, input);
  // A calendar calsync cannot prove it made for this tenant (no marker) is never deleted.
  if (!link.calendar_owned || !link.calendar_marker || !link.refresh_token_sealed || link.status === 'disconnected')
    return 'skipped';
  // Another staff member's link on the same account still writes there: the calendar stays (the
  // last link to go deletes it).
  const shared = await deps
    .db('calendar_links')
    .where({
      tenant_id: input.tenantId,
      provider: link.provider,
      account_email: link.account_email,
      calendar_id: link.calendar_id,
    })
    .whereNot({ id: link.id })
    .whereIn('status', ['active', 'needs_reauth', 'connecting'])
    .first('id');
  if (shared) return 'shared';
  const marker = link.calendar_marker;
  const outcome = await onCalendar(deps, link, (provider) => provider.deleteCalendar(link.calendar_id, marker));
  if (outcome === 'not_ours')
    deps.logger.warn({ linkId: link.id }, "the link's calendar no longer carries its marker: kept");
  return outcome;
}

/**
 * The marker of the tenant's dedicated calendar on this account: the one another link of this
 * tenant on the same account already has (they share the calendar), else a new unguessable one.
 * Kept with the link before any calendar is made, so a retried provisioning finds its own.
 */
async function calendarMarkerOf(deps: ActivityDeps, link: LinkCalendarRow): Promise<string> {
  if (link.calendar_marker) return link.calendar_marker;
  const sibling = await deps
    .db('calendar_links')
    .where({ tenant_id: link.tenant_id, provider: link.provider, account_email: link.account_email })
    .whereNotNull('calendar_marker')
    .orderBy('created_at')
    .first('calendar_marker');
  const marker: string = sibling?.calendar_marker ?? randomBytes(18).toString('base64url');
  await deps.db('calendar_links').where({ id: link.id }).update({ calendar_marker: marker });
  return marker;
}

/** Calendar work as the link's account; a failure leaves as the activity's failure. */
function onCalendar<T>(deps: ActivityDeps, link: LinkRow, work: (calendar: CalendarApi) => Promise<T>): Promise<T> {
  return linkActivity(deps, link, async (account) => work(await account.calendar()));
}
