import { createHash } from 'node:crypto';
import { clientInvitationTarget } from '../lib/clientInvitations';
import { rowToTargetStatus } from '../lib/targetStatus';
import { remoteEventId } from '../lib/remoteIds';
import { entityTypeSyncs, resolveCrmSettings } from '../lib/crmSettings';
import { defaultTenantSyncSettings, type TargetSpec, type TargetStatus, type TenantSyncSettings } from '../lib/types';
import type { ActivityDeps } from './deps';

export interface TargetPlan {
  targets: TargetSpec[];
  settings: TenantSyncSettings;
  /** Assigned staff with no active calendar link: nothing to write for them. */
  staffWithoutCalendar: string[];
  /** The client's e-mail invitation, a target of its own (sent only when its preconditions hold). */
  invitationTarget?: TargetSpec;
  /** Why the appointment belongs in no calendar at all (its type or itself switched off): targets is empty. */
  syncOff?: PlanWarning;
  /**
   * What PostgreSQL knows of the appointment's targets: what earlier runs of the workflow left behind,
   * and a write begun by a first attempt whose worker died before its workflow task completed.
   */
  storedTargets: TargetStatus[];
}

/**
 * A target is a remote calendar, not a link: reconnecting the same account (a new link) lands on
 * the same key, so the same deterministic event ids, and finds its events instead of doubling them;
 * two staff members sharing one calendar get one copy. Hashed: the key travels in logs and history.
 */
export function targetKeyFor(link: { provider: string; account_email: string; calendar_id: string }): string {
  const digest = createHash('sha256')
    .update(`${link.provider}\u0000${link.account_email.toLowerCase()}\u0000${link.calendar_id}`)
    .digest('hex');
  return `cal:${digest.slice(0, 24)}`;
}

/** The calendars an appointment belongs in now: every active (or held) link of every assigned staff member and of everyone it is shared with, and of every team calendar named. */
export async function planTargets(
  deps: ActivityDeps,
  input: {
    tenantId: string;
    appointmentId: string;
    staffIds: string[];
    entityType?: string;
    syncEnabled?: boolean;
    calendarIds?: string[];
    sharedWithStaffIds?: string[];
  },
): Promise<TargetPlan> {
  // People the event is shared with get it in their calendars as the assigned staff do.
  const people = [...new Set([...input.staffIds, ...(input.sharedWithStaffIds ?? [])])];
  const [{ tenant, staffLinks, stored }, teamLinks] = await Promise.all([
    tenantAndStaffLinks(deps, input, people),
    teamCalendarLinks(deps, input.tenantId, input.calendarIds ?? []),
  ]);
  const links = staffLinks as { id: string; staff_id: string }[];
  const byKey = new Map<string, TargetSpec>();
  // Staff calendars first, then team calendars; one remote calendar named twice gets one copy.
  for (const link of [...links, ...teamLinks] as {
    id: string;
    provider: TargetSpec['provider'];
    account_email: string;
    calendar_id: string;
  }[]) {
    const targetKey = targetKeyFor(link);
    if (byKey.has(targetKey)) continue;
    byKey.set(targetKey, {
      targetKey,
      kind: 'calendar',
      provider: link.provider,
      linkId: link.id,
      calendarId: link.calendar_id,
      remoteId: remoteEventId(input.tenantId, input.appointmentId, targetKey),
    });
  }
  const syncOff = syncSwitchedOff(tenant?.settings, input);
  const targets = syncOff ? [] : [...byKey.values()];
  const linked = new Set(links.map((l: { staff_id: string }) => l.staff_id));
  return {
    targets,
    ...(syncOff ? { syncOff } : {}),
    // Only what the workflow decides on: secrets and URLs stay out of its history.
    settings: {
      cancelledEvents: tenant?.settings?.cancelledEvents ?? defaultTenantSyncSettings.cancelledEvents,
      notifyCrm: Boolean(tenant?.settings?.webhookUrl),
      clientInvitations: {
        enabled: tenant?.settings?.clientInvitations?.enabled === true,
        onCreate: tenant?.settings?.clientInvitations?.onCreate !== false,
        onChange: tenant?.settings?.clientInvitations?.onChange !== false,
        onCancel: tenant?.settings?.clientInvitations?.onCancel !== false,
      },
    },
    staffWithoutCalendar: syncOff ? [] : input.staffIds.filter((id) => !linked.has(id)),
    invitationTarget: clientInvitationTarget(input.tenantId, input.appointmentId),
    storedTargets: stored,
  };
}

/**
 * The tenant's settings, the people's calendar links and the appointment's stored target states,
 * in one query: round trips less on every change. A link that needs
 * re-authorisation stays a target: its writes are held until it is reconnected.
 */
async function tenantAndStaffLinks(
  deps: ActivityDeps,
  input: { tenantId: string; appointmentId: string },
  people: string[],
) {
  const row = await deps
    .db('tenants as tn')
    .where('tn.id', input.tenantId)
    .first(
      'tn.settings',
      deps.db.raw(
        `(select coalesce(json_agg(json_build_object('id', l.id, 'staff_id', l.staff_id, 'provider', l.provider,
            'account_email', l.account_email, 'calendar_id', l.calendar_id) order by l.id), '[]'::json)
          from calendar_links l
          where l.tenant_id = tn.id and l.status in ('active', 'needs_reauth') and l.staff_id = any(?::text[])) as staff_links`,
        [people],
      ),
      deps.db.raw(
        `(select coalesce(json_agg(t), '[]'::json) from appointment_targets t
          where t.tenant_id = tn.id and t.appointment_id = ?) as stored_targets`,
        [input.appointmentId],
      ),
    );
  return {
    tenant: row as { settings: Record<string, any> } | undefined,
    staffLinks: (row?.staff_links ?? []) as { id: string; staff_id: string }[],
    stored: ((row?.stored_targets ?? []) as any[]).map(rowToTargetStatus),
  };
}

/** The calendar links behind team calendars, each pointed at the team calendar's remote calendar. */
async function teamCalendarLinks(deps: ActivityDeps, tenantId: string, calendarIds: string[]) {
  if (calendarIds.length === 0) return [];
  const rows = await deps
    .db('team_calendars as t')
    .join('calendar_links as l', 'l.id', 't.link_id')
    .where({ 't.tenant_id': tenantId, 'l.tenant_id': tenantId })
    .whereNull('t.deleted_at')
    // As for staff links: a team calendar whose account needs re-authorisation holds its writes.
    .whereIn('l.status', ['active', 'needs_reauth'])
    .whereIn('t.id', calendarIds)
    .orderBy('t.id')
    .select('l.id', 'l.provider', 'l.account_email', 'l.calendar_id', 't.remote_calendar_id');
  return rows.map((r: any) => ({
    id: r.id,
    provider: r.provider,
    account_email: r.account_email,
    calendar_id: r.remote_calendar_id ?? r.calendar_id,
  }));
}

/** The CRM model's switches: an entity type off for the tenant, or the appointment itself off. */
function syncSwitchedOff(
  settings: Record<string, any> | undefined,
  input: { entityType?: string; syncEnabled?: boolean },
): PlanWarning | undefined {
  const off = (code: string, message: string): PlanWarning => ({ targetKey: 'sync', provider: 'none', code, message });
  if (input.syncEnabled === false)
    return off(
      'appointment_sync_off',
      'the appointment is switched off for sync (syncEnabled: false); it is kept out of every calendar',
    );
  if (input.entityType !== undefined && !entityTypeSyncs(resolveCrmSettings(settings), input.entityType)) {
    return off(
      'entity_type_off',
      `entity type ${input.entityType} is switched off for sync (settings.entityTypes.${input.entityType}.sync); it is kept out of every calendar`,
    );
  }
  return undefined;
}

export interface PlanWarning {
  targetKey: string;
  provider: string;
  code: string;
  message: string;
}

/** Warnings are sync-log rows too, linked to the appointment they concern. */
export async function recordWarnings(
  deps: ActivityDeps,
  input: {
    tenantId: string;
    appointmentId: string;
    revision: number;
    staffWithoutCalendar: string[];
    warnings?: PlanWarning[];
  },
): Promise<void> {
  const other = (input.warnings ?? []).map((w) => ({
    tenant_id: input.tenantId,
    appointment_id: input.appointmentId,
    target_key: w.targetKey,
    provider: w.provider,
    action: 'plan',
    result: 'warning',
    error_code: w.code,
    error_message: w.message,
    revision: input.revision,
  }));
  if (other.length === 0 && input.staffWithoutCalendar.length === 0) return;
  await deps.db('sync_log').insert([
    ...other,
    ...input.staffWithoutCalendar.map((staffId) => ({
      tenant_id: input.tenantId,
      appointment_id: input.appointmentId,
      target_key: `staff:${staffId}`,
      provider: 'none',
      action: 'plan',
      result: 'warning',
      error_code: 'staff_without_calendar',
      error_message: `staff member ${staffId} has no connected calendar; nothing is written for them`,
      revision: input.revision,
    })),
  ]);
}
