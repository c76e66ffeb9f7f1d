import type { ShareRole } from '../providers/types';
import { accessTokenFor, type LinkRow } from './credentials';
import type { ActivityDeps } from './deps';
import { providerFor } from './push';
import { providerFailure } from './reconcile';

export interface SharingOutcome {
  shared: number;
  changed: number;
  unshared: number;
  /** Members calsync knows no address for (no staff e-mail, no connected account). */
  withoutAddress: string[];
  skipped?: string;
}

/** Each member's address: the staff member's e-mail, else the account of their first live link. */
async function memberAddresses(deps: ActivityDeps, tenantId: string, members: { staffId: string; access: ShareRole }[]) {
  const staffIds = members.map((m) => m.staffId);
  const [staff, links] = await Promise.all([
    deps.db('staff').where({ tenant_id: tenantId }).whereIn('id', staffIds).select('id', 'email'),
    deps.db('calendar_links').where({ tenant_id: tenantId }).whereIn('staff_id', staffIds).whereIn('status', ['active', 'needs_reauth']).orderBy('created_at').select('staff_id', 'account_email'),
  ]);
  const address = new Map<string, string>();
  for (const l of links as { staff_id: string; account_email: string }[]) if (!address.has(l.staff_id)) address.set(l.staff_id, l.account_email.toLowerCase());
  for (const s of staff as { id: string; email: string | null }[]) if (s.email) address.set(s.id, s.email.toLowerCase());
  return address;
}

/**
 * Makes the team calendar's sharing match its members: each member's address gets read or write
 * access, and addresses calsync shared earlier but that are no longer members lose it. Shares made
 * by hand are left alone. Idempotent: it lists before it changes anything.
 */
export async function shareTeamCalendar(deps: ActivityDeps, input: { tenantId: string; calendarId: string }): Promise<SharingOutcome> {
  const outcome: SharingOutcome = { shared: 0, changed: 0, unshared: 0, withoutAddress: [] };
  const cal = await deps.db('team_calendars').where({ tenant_id: input.tenantId, id: input.calendarId }).first();
  if (!cal) return { ...outcome, skipped: 'the team calendar is gone' };
  const link: LinkRow | undefined = await deps.db('calendar_links').where({ tenant_id: input.tenantId, id: cal.link_id }).first();
  const record = (fields: Record<string, unknown>) => deps.db('team_calendars').where({ tenant_id: input.tenantId, id: input.calendarId }).update(fields);
  if (!link || link.status !== 'active') {
    // Retried when the calendar is next saved or its account reconnected: nothing to do until then.
    await record({ sharing_error: `the calendar link is ${link?.status ?? 'gone'}` });
    return { ...outcome, skipped: `the calendar link is ${link?.status ?? 'gone'}` };
  }

  const members = cal.members as { staffId: string; access: ShareRole }[];
  const addresses = await memberAddresses(deps, input.tenantId, members);
  const desired = new Map<string, ShareRole>();
  for (const m of members) {
    const email = addresses.get(m.staffId);
    if (!email) outcome.withoutAddress.push(m.staffId);
    // The account behind the calendar owns it already.
    else if (email !== link.account_email.toLowerCase()) desired.set(email, desired.get(email) === 'write' ? 'write' : m.access);
  }

  const remoteCalendarId: string = cal.remote_calendar_id ?? link.calendar_id;
  try {
    const provider = providerFor(deps, link, await accessTokenFor(deps, link));
    const existing = new Map((await provider.listShares(remoteCalendarId)).map((s) => [s.email, s]));
    for (const [email, role] of desired) {
      const share = existing.get(email);
      if (!share) outcome.shared++;
      else if (share.role !== role) outcome.changed++;
      else continue;
      await provider.share(remoteCalendarId, email, role, share?.id);
    }
    for (const email of cal.shared_with as string[]) {
      const share = existing.get(email);
      if (desired.has(email) || !share) continue;
      await provider.unshare(remoteCalendarId, share.id);
      outcome.unshared++;
    }
  } catch (err) {
    await record({ sharing_error: String((err as Error)?.message ?? err).slice(0, 500) });
    return providerFailure(deps, link, err);
  }
  await record({ shared_with: JSON.stringify([...desired.keys()]), sharing_error: null, shared_at: deps.db.fn.now() });
  return outcome;
}
