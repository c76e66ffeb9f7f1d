import { ProviderError } from '../providers/errors';
import type { CalendarShare, CalendarSharing, ShareRole } from '../providers/types';
import type { LinkRow } from './credentials';
import type { ActivityDeps } from './deps';
import { linkActivity } from './linkAccount';

export interface SharingOutcome {
  shared: number;
  changed: number;
  unshared: number;
  /** Members calsync knows no address for (no staff e-mail, no connected account). */
  withoutAddress: string[];
  skipped?: string;
  /** Shares taken back from the calendar the team calendar was on before it moved. */
  unsharedAtOldPlace?: number;
  /** The team calendar moved away from an account calsync can no longer reach: its old shares stay there. */
  oldPlaceUnreachable?: string;
}

/** Each member's address: the staff member's e-mail, else the account of their first live link. */
async function memberAddresses(
  deps: ActivityDeps,
  tenantId: string,
  members: { staffId: string; access: ShareRole }[],
) {
  const staffIds = members.map((m) => m.staffId);
  const [staff, links] = await Promise.all([
    deps.db('staff').where({ tenant_id: tenantId }).whereIn('id', staffIds).select('id', 'email'),
    deps
      .db('calendar_links')
      .where({ tenant_id: tenantId })
      .whereIn('staff_id', staffIds)
      .whereIn('status', ['active', 'needs_reauth'])
      .orderBy('created_at')
      .select('staff_id', 'account_email'),
  ]);
  const address = new Map<string, string>();
  for (const l of links as { staff_id: string; account_email: string }[])
    if (!address.has(l.staff_id)) address.set(l.staff_id, l.account_email.toLowerCase());
  for (const s of staff as { id: string; email: string | null }[])
    if (s.email) address.set(s.id, s.email.toLowerCase());
  return address;
}

/**
 * Makes the team calendar's sharing match its members: each member's address gets read or write
 * access, and addresses calsync shared earlier but that are no longer members lose it. Shares made
 * by hand are left alone. Idempotent: it lists before it changes anything.
 */
export async function shareTeamCalendar(
  deps: ActivityDeps,
  input: { tenantId: string; calendarId: string },
): Promise<SharingOutcome> {
  const outcome: SharingOutcome = { shared: 0, changed: 0, unshared: 0, withoutAddress: [] };
  const cal = await deps.db('team_calendars').where({ tenant_id: input.tenantId, id: input.calendarId }).first();
  if (!cal) return { ...outcome, skipped: 'the team calendar is gone' };
  const link: LinkRow | undefined = await deps
    .db('calendar_links')
    .where({ tenant_id: input.tenantId, id: cal.link_id })
    .first();
  const record = (fields: Record<string, unknown>) =>
    deps.db('team_calendars').where({ tenant_id: input.tenantId, id: input.calendarId }).update(fields);
  if (!link || link.status !== 'active') {
    // Retried when the calendar is next saved or its account reconnected: nothing to do until then.
    await record({ sharing_error: `the calendar link is ${link?.status ?? 'gone'}` });
    return { ...outcome, skipped: `the calendar link is ${link?.status ?? 'gone'}` };
  }

  // A deleted team calendar keeps no members: every share calsync made is taken back.
  const members = cal.deleted_at ? [] : (cal.members as { staffId: string; access: ShareRole }[]);
  const addresses = await memberAddresses(deps, input.tenantId, members);
  const desired = new Map<string, ShareRole>();
  for (const m of members) {
    const email = addresses.get(m.staffId);
    if (!email) outcome.withoutAddress.push(m.staffId);
    // The account behind the calendar owns it already.
    else if (email !== link.account_email.toLowerCase())
      desired.set(email, desired.get(email) === 'write' ? 'write' : m.access);
  }

  const remoteCalendarId: string = cal.remote_calendar_id ?? link.calendar_id;
  // Rows shared before the place was recorded were shared where the calendar is now.
  const sharedPlace = { linkId: cal.shared_link_id ?? link.id, calendarId: cal.shared_calendar_id ?? remoteCalendarId };
  let sharedWith = cal.shared_with as string[];
  if (sharedWith.length > 0 && (sharedPlace.linkId !== link.id || sharedPlace.calendarId !== remoteCalendarId)) {
    Object.assign(outcome, await unshareOldPlace(deps, input.tenantId, sharedPlace, sharedWith));
    // Taken back (or out of reach for good): a retry from here on shares only the new place.
    await record({ shared_with: '[]', shared_link_id: link.id, shared_calendar_id: remoteCalendarId });
    sharedWith = [];
  }
  await linkActivity(deps, link, async (account) => {
    try {
      const provider = await account.sharing();
      const existing = new Map((await provider.listShares(remoteCalendarId)).map((s) => [s.email, s]));
      for (const [email, role] of desired) {
        const share = existing.get(email);
        if (!share) outcome.shared++;
        else if (share.role !== role) outcome.changed++;
        else continue;
        await provider.share(remoteCalendarId, email, role, share?.id);
      }
      outcome.unshared += await unshare(
        provider,
        remoteCalendarId,
        existing,
        sharedWith.filter((email) => !desired.has(email)),
      );
    } catch (err) {
      await record({ sharing_error: String((err as Error)?.message ?? err).slice(0, 500) });
      throw err;
    }
  });
  await record({
    shared_with: JSON.stringify([...desired.keys()]),
    shared_link_id: link.id,
    shared_calendar_id: remoteCalendarId,
    sharing_error: null,
    shared_at: deps.db.fn.now(),
  });
  return outcome;
}

/**
 * The team calendar moved to another account or calendar: calsync's shares of the old one are taken
 * back, so former members do not keep a calendar that no longer is the team's. An old account that
 * is disconnected or needs re-authorisation cannot be reached; its shares are left and reported.
 */
async function unshareOldPlace(
  deps: ActivityDeps,
  tenantId: string,
  place: { linkId: string; calendarId: string },
  emails: string[],
): Promise<Pick<SharingOutcome, 'unsharedAtOldPlace' | 'oldPlaceUnreachable'>> {
  const oldLink: LinkRow | undefined = await deps
    .db('calendar_links')
    .where({ tenant_id: tenantId, id: place.linkId })
    .first();
  if (!oldLink || oldLink.status !== 'active') {
    const why = `the calendar link ${place.linkId} it was on is ${oldLink?.status ?? 'gone'}`;
    deps.logger.warn(
      { tenantId, linkId: place.linkId, shares: emails.length },
      `team calendar moved; its old shares stay: ${why}`,
    );
    return { oldPlaceUnreachable: why };
  }
  return linkActivity(deps, oldLink, async (account) => {
    const provider = await account.sharing();
    try {
      const existing = new Map((await provider.listShares(place.calendarId)).map((s) => [s.email, s]));
      return { unsharedAtOldPlace: await unshare(provider, place.calendarId, existing, emails) };
    } catch (err) {
      // The old calendar is gone, and its shares with it.
      if (err instanceof ProviderError && err.status === 404)
        return { unsharedAtOldPlace: 0, oldPlaceUnreachable: `the calendar ${place.calendarId} is gone` };
      throw err;
    }
  });
}

/** Takes back the shares of these addresses that are still there; how many went. */
async function unshare(
  provider: CalendarSharing,
  calendarId: string,
  existing: Map<string, CalendarShare>,
  emails: string[],
): Promise<number> {
  let unshared = 0;
  for (const email of emails) {
    const share = existing.get(email);
    if (!share) continue;
    await provider.unshare(calendarId, share.id);
    unshared++;
  }
  return unshared;
}
