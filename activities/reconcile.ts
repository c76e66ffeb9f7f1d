import { randomUUID } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { passSummary, type PassCalendar, type PassRow, type ReconcilePassSummary } from '../lib/reconcileTypes';
import type { DesiredAppointment } from '../lib/types';
import { driftedFields } from '../content/drift';
import { ownerTag, renderTenantEvent } from '../content/eventContent';
import type { CalendarApi, ObservedEvent } from '../providers/types';
import type { LinkRow } from './credentials';
import type { ActivityDeps } from './deps';
import { linkActivity } from './linkAccount';
import { handleDrift, observe, type Drift } from './reconcileDrift';
import { targetKeyFor } from './targets';
import { notEndedBy } from '../lib/seriesQuery';

const PASS_RETENTION_MS = 30 * 86400 * 1000;

/** What calsync last wrote for this target: the appointment's state as the target applied it, by the tenant's settings. */
function expectedContent(desired: DesiredAppointment, appliedMode: string, settings: Record<string, any> | undefined) {
  return renderTenantEvent(desired, settings, { cancelled: appliedMode === 'markCancelled' });
}

/** The tenant's stored settings (templates, privacy, attendee rules): what its events were rendered with. */
async function tenantSettings(deps: ActivityDeps, tenantId: string): Promise<Record<string, any> | undefined> {
  return (await deps.db('tenants').where({ id: tenantId }).first('settings'))?.settings;
}

/**
 * Opens a pass for a link. A link being disconnected (or gone) ends the workflow; one that cannot
 * be read (needs_reauth) gets a skipped pass and is tried again next interval.
 */
export async function beginReconcilePass(
  deps: ActivityDeps,
  input: { tenantId: string; linkId: string; trigger: 'schedule' | 'request' },
): Promise<{ stop: boolean; passId?: string; skipped?: ReconcilePassSummary }> {
  const link: LinkRow | undefined = await deps
    .db('calendar_links')
    .where({ id: input.linkId, tenant_id: input.tenantId })
    .first();
  if (!link || link.status === 'disconnecting' || link.status === 'disconnected') return { stop: true };
  // The counts of a month are plenty to look back on.
  await deps
    .db('reconcile_passes')
    .where({ link_id: link.id })
    .where('started_at', '<', new Date(Date.now() - PASS_RETENTION_MS))
    .delete();
  const settings = await tenantSettings(deps, input.tenantId);
  const base = {
    id: randomUUID(),
    tenant_id: input.tenantId,
    link_id: link.id,
    target_key: targetKeyFor(link),
    trigger: input.trigger,
    // The CRM is the source of truth: restoring is on unless the tenant switched it off.
    restore: settings?.reconcileRestore !== false,
  };
  if (link.status !== 'active') {
    const [row] = await deps
      .db('reconcile_passes')
      .insert({ ...base, state: 'skipped', detail: `the link is ${link.status}`, finished_at: deps.db.fn.now() })
      .returning('*');
    return { stop: false, skipped: passSummary(row) };
  }
  await deps
    .db('reconcile_passes')
    .insert({ ...base, state: 'running', calendars: JSON.stringify(await calendarsOfLink(deps, link)) });
  return { stop: false, passId: base.id };
}

/** Every remote calendar the link writes to, its own first; a team calendar on the link's own calendar is that one. */
async function calendarsOfLink(deps: ActivityDeps, link: LinkRow): Promise<PassCalendar[]> {
  const own: PassCalendar = { calendarId: link.calendar_id, targetKey: targetKeyFor(link) };
  const teams = await deps
    .db('team_calendars')
    .where({ tenant_id: link.tenant_id, link_id: link.id })
    .whereNull('deleted_at')
    .orderBy('id')
    .select('id', 'remote_calendar_id');
  const byKey = new Map([[own.targetKey, own]]);
  for (const team of teams) {
    const calendarId = team.remote_calendar_id ?? link.calendar_id;
    const targetKey = targetKeyFor({ ...link, calendar_id: calendarId });
    if (!byKey.has(targetKey)) byKey.set(targetKey, { calendarId, targetKey, teamCalendarId: team.id });
  }
  return [...byKey.values()];
}

/** The pass's calendars; a pass begun before team calendars were covered has the link's own only. */
function passCalendars(pass: PassRow, link: LinkRow): PassCalendar[] {
  return pass.calendars?.length ? pass.calendars : [{ calendarId: link.calendar_id, targetKey: pass.target_key }];
}

// The workflow carries one opaque page token; it names the calendar being listed and the provider's
// token within it. A token without the prefix is a provider token of the first calendar (a pass
// that was paging when this changed).
const CALENDAR_TOKEN = /^calsync-calendar-(\d+)\|(.*)$/s;

function decodePageToken(token: string | undefined): { index: number; providerToken?: string } {
  const m = token ? CALENDAR_TOKEN.exec(token) : null;
  if (!m) return { index: 0, providerToken: token };
  return { index: Number(m[1]), providerToken: m[2] || undefined };
}

function encodePageToken(index: number, providerToken?: string): string {
  return `calsync-calendar-${index}|${providerToken ?? ''}`;
}

interface PassContext {
  pass: PassRow;
  link: LinkRow;
}

async function openPass(deps: ActivityDeps, tenantId: string, passId: string): Promise<PassContext> {
  const pass: PassRow | undefined = await deps
    .db('reconcile_passes')
    .where({ id: passId, tenant_id: tenantId })
    .first();
  if (!pass) throw ApplicationFailure.nonRetryable(`reconcile pass ${passId} not found`, 'not_found');
  const link: LinkRow | undefined = await deps
    .db('calendar_links')
    .where({ id: pass.link_id, tenant_id: tenantId })
    .first();
  if (!link || link.status !== 'active') {
    throw ApplicationFailure.nonRetryable(`the calendar link is ${link?.status ?? 'gone'}`, 'link_unavailable');
  }
  return { pass, link };
}

/**
 * One page of calsync's events in the link's calendar: each is in step, drifted, being written
 * right now, or an orphan (no live target of a live appointment has this event). Orphans older
 * than the grace period are deleted by id; drift goes to handleDrift; the appointments seen are
 * kept for finishReconcilePass, which finds the events deleted by hand.
 */
export async function reconcilePage(
  deps: ActivityDeps,
  input: { tenantId: string; passId: string; pageToken?: string; pageSize: number },
): Promise<{ nextPageToken?: string }> {
  const { pass, link } = await openPass(deps, input.tenantId, input.passId);
  return linkActivity(deps, link, async (account) =>
    reconcileListedPage(deps, pass, link, await account.calendar(), input),
  );
}

async function reconcileListedPage(
  deps: ActivityDeps,
  pass: PassRow,
  link: LinkRow,
  provider: CalendarApi,
  input: { pageToken?: string; pageSize: number },
): Promise<{ nextPageToken?: string }> {
  const calendars = passCalendars(pass, link);
  const { index, providerToken } = decodePageToken(input.pageToken);
  const calendar = calendars[index];
  if (!calendar)
    throw ApplicationFailure.nonRetryable(`reconcile pass ${pass.id} has no calendar ${index}`, 'bad_page_token');
  const targetKey = calendar.targetKey;
  const page = await provider.listOwnedEvents(calendar.calendarId, ownerTag(pass.tenant_id, targetKey), {
    pageToken: providerToken,
    pageSize: input.pageSize,
  });

  const prefix = `${pass.tenant_id}:`;
  const appointmentOf = (e: ObservedEvent) => (e.tag?.startsWith(prefix) ? e.tag.slice(prefix.length) : undefined);
  const ids = [...new Set(page.events.map(appointmentOf).filter((id): id is string => id !== undefined))];
  const [appointments, targets, settings] = await Promise.all([
    deps
      .db('appointments')
      .where({ tenant_id: pass.tenant_id })
      .whereIn('id', ids)
      .select('id', 'revision', 'deleted_at', 'end_at', 'series_end_at', 'desired'),
    deps
      .db('appointment_targets')
      .where({ tenant_id: pass.tenant_id, target_key: targetKey })
      .whereIn('appointment_id', ids),
    tenantSettings(deps, pass.tenant_id),
  ]);
  const appointmentById = new Map(appointments.map((a: any) => [a.id, a]));
  const targetById = new Map(targets.map((t: any) => [t.appointment_id, t]));

  const counts = { listed: page.events.length, in_step: 0, changed: 0, in_flight: 0, orphans_removed: 0 };
  const seen: string[] = [];
  const drifts: Drift[] = [];
  const orphans: Array<{ event: ObservedEvent; appointmentId?: string; why: string }> = [];
  const now = Date.now();
  for (const event of page.events) {
    const appointmentId = appointmentOf(event);
    const appt: any = appointmentId ? appointmentById.get(appointmentId) : undefined;
    const target: any = appointmentId ? targetById.get(appointmentId) : undefined;
    const live = appt && !appt.deleted_at && target && target.state !== 'removed';
    if (live && target.remote_id === event.remoteId) {
      seen.push(appointmentId!);
      // Only a target at rest, written before this pass began, with the appointment's newest
      // revision, can be judged: anything else is the appointment workflow's work in progress.
      const settled =
        target.state === 'synced' &&
        target.applied_mode !== 'remove' &&
        new Date(target.updated_at) < new Date(pass.started_at) &&
        Number(target.applied_revision) === Number(appt.revision);
      if (!settled) {
        counts.in_flight++;
        continue;
      }
      // A series is judged until its last occurrence ends (forever without an end).
      const endsAt = appt.desired?.recurrence ? appt.series_end_at : appt.end_at;
      const fields =
        endsAt === null || new Date(endsAt).getTime() > now
          ? driftedFields(event, expectedContent(appt.desired, target.applied_mode, settings))
          : []; // the past is left as it is
      if (fields.length === 0) {
        counts.in_step++;
      } else {
        counts.changed++;
        drifts.push({
          appointmentId: appointmentId!,
          desired: appt.desired,
          code: 'changed_by_hand',
          remoteId: event.remoteId,
          targetUpdatedAt: target.updated_at,
          fields,
        });
      }
      continue;
    }
    // A live target not at rest, or one whose id is not known yet (a create whose answer was lost):
    // its workflow finds this event by its tag.
    if (live && (target.state !== 'synced' || !target.remote_id)) {
      counts.in_flight++;
      continue;
    }
    // Just written or changed: its target row may not be in PostgreSQL yet.
    if (now - event.updatedAt < deps.config.reconcile.orphanGraceMs) {
      counts.in_flight++;
      continue;
    }
    const why = !appt
      ? 'no such appointment'
      : appt.deleted_at
        ? 'the appointment was deleted'
        : !target
          ? 'the appointment has no target in this calendar'
          : target.state === 'removed'
            ? 'the appointment no longer belongs in this calendar'
            : 'a second copy of the appointment';
    orphans.push({ event, appointmentId, why });
  }

  for (const orphan of orphans) {
    const startedAt = Date.now();
    const outcome = await provider.deleteEventById(calendar.calendarId, orphan.event.remoteId);
    counts.orphans_removed++;
    await deps.db('sync_log').insert({
      tenant_id: pass.tenant_id,
      appointment_id: orphan.appointmentId ?? `(untagged)`,
      target_key: targetKey,
      provider: link.provider,
      action: 'reconcile',
      result: 'orphan_removed',
      error_code: outcome === 'deleted' ? null : outcome,
      error_message: `calsync's event had no live appointment target: ${orphan.why}`,
      remote_id: orphan.event.remoteId,
      duration_ms: Date.now() - startedAt,
    });
    Context.current().heartbeat();
  }
  const acted = await handleDrift(deps, { ...pass, target_key: targetKey }, link.provider, drifts);

  observe(link.provider, { ...counts, restore_requested: acted.restoreRequested, drift_recorded: acted.driftRecorded });
  await deps.db.transaction(async (trx) => {
    if (seen.length)
      await trx('reconcile_seen')
        .insert(seen.map((appointment_id) => ({ pass_id: pass.id, target_key: targetKey, appointment_id })))
        .onConflict()
        .ignore();
    await trx('reconcile_passes')
      .where({ id: pass.id })
      .increment({
        ...counts,
        pages: 1,
        restore_requested: acted.restoreRequested,
        drift_recorded: acted.driftRecorded,
      });
  });
  if (page.nextPageToken) return { nextPageToken: encodePageToken(index, page.nextPageToken) };
  return { nextPageToken: index + 1 < calendars.length ? encodePageToken(index + 1) : undefined };
}

/**
 * After the last page: every target that was in step before the pass began but whose event was
 * not listed is looked up by its id. Gone (404, 410, Google's `cancelled`): deleted by hand. Still
 * there: changed by hand, or written before calsync tagged its owner (then rewritten with the tag).
 * Only a definite answer counts as deleted. Batches of `batchSize` with a pause between them.
 */
export async function finishReconcilePass(
  deps: ActivityDeps,
  input: { tenantId: string; passId: string; batchSize: number; pauseMs: number },
): Promise<ReconcilePassSummary> {
  const { pass, link } = await openPass(deps, input.tenantId, input.passId);
  return linkActivity(deps, link, async (account) =>
    findUnseenDrift(deps, pass, link, await account.calendar(), input),
  );
}

async function findUnseenDrift(
  deps: ActivityDeps,
  pass: PassRow,
  link: LinkRow,
  provider: CalendarApi,
  input: { batchSize: number; pauseMs: number },
): Promise<ReconcilePassSummary> {
  const counts = { missing: 0, changed: 0, untagged: 0, in_step: 0, restore_requested: 0, drift_recorded: 0 };
  let batches = 0;
  const settings = await tenantSettings(deps, pass.tenant_id);
  for (const calendar of passCalendars(pass, link)) {
    const candidates = await unseenTargets(deps, pass, calendar.targetKey);
    const owner = ownerTag(pass.tenant_id, calendar.targetKey);
    for (let i = 0; i < candidates.length; i += input.batchSize) {
      if (batches++ > 0) await new Promise((resolve) => setTimeout(resolve, input.pauseMs));
      const drifts: Drift[] = [];
      for (const m of candidates.slice(i, i + input.batchSize)) {
        const observed = await provider.getEventById(calendar.calendarId, m.remote_id);
        const base = {
          appointmentId: m.appointment_id,
          desired: m.desired,
          remoteId: m.remote_id,
          targetUpdatedAt: m.updated_at,
        };
        if (!observed) {
          counts.missing++;
          drifts.push({ ...base, code: 'deleted_by_hand' });
          continue;
        }
        const fields = driftedFields(observed, expectedContent(m.desired, m.applied_mode, settings));
        if (fields.length > 0) {
          counts.changed++;
          drifts.push({ ...base, code: 'changed_by_hand', fields });
        } else {
          counts.in_step++;
          if (observed.owner !== owner) {
            counts.untagged++;
            drifts.push({ ...base, code: 'owner_tag_missing' });
          }
        }
      }
      const acted = await handleDrift(deps, { ...pass, target_key: calendar.targetKey }, link.provider, drifts);
      counts.restore_requested += acted.restoreRequested;
      counts.drift_recorded += acted.driftRecorded;
      Context.current().heartbeat();
    }
  }
  observe(link.provider, counts);
  const [row] = await deps.db.transaction(async (trx) => {
    await trx('reconcile_seen').where({ pass_id: pass.id }).delete();
    await trx('reconcile_passes').where({ id: pass.id }).increment(counts);
    return trx('reconcile_passes')
      .where({ id: pass.id })
      .update({ state: 'completed', finished_at: trx.fn.now() })
      .returning('*');
  });
  deps.logger.info(
    { tenantId: pass.tenant_id, linkId: pass.link_id, pass: passSummary(row) },
    'reconcile pass completed',
  );
  return passSummary(row);
}

/**
 * The targets of one calendar that were in step before the pass began and whose event the listing
 * did not show: each is looked up by its id.
 */
function unseenTargets(deps: ActivityDeps, pass: PassRow, targetKey: string) {
  return deps
    .db('appointment_targets as t')
    .join('appointments as a', function () {
      this.on('a.tenant_id', 't.tenant_id').andOn('a.id', 't.appointment_id');
    })
    .where({ 't.tenant_id': pass.tenant_id, 't.target_key': targetKey, 't.state': 'synced', 't.remote_exists': true })
    .whereIn('t.applied_mode', ['upsert', 'markCancelled'])
    .whereNotNull('t.remote_id')
    .where('t.updated_at', '<', pass.started_at)
    .whereRaw('t.applied_revision = a.revision')
    .whereNull('a.deleted_at')
    .where(notEndedBy(new Date(), 'a'))
    .whereNotExists(function () {
      this.select(1)
        .from('reconcile_seen as s')
        .where({ 's.pass_id': pass.id, 's.target_key': targetKey })
        .whereRaw('s.appointment_id = t.appointment_id');
    })
    .orderBy('t.appointment_id')
    .select('t.appointment_id', 't.remote_id', 't.updated_at', 't.applied_mode', 'a.desired');
}

/** A pass whose listing could not be completed: nothing is judged missing. */
export async function failReconcilePass(
  deps: ActivityDeps,
  input: { tenantId: string; passId: string; detail: string },
): Promise<ReconcilePassSummary> {
  const [row] = await deps.db.transaction(async (trx) => {
    await trx('reconcile_seen').where({ pass_id: input.passId }).delete();
    return trx('reconcile_passes')
      .where({ id: input.passId, tenant_id: input.tenantId })
      .update({ state: 'failed', detail: input.detail, finished_at: trx.fn.now() })
      .returning('*');
  });
  return passSummary(row);
}
