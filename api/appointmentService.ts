import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Knex } from 'knex';
import type { DesiredAppointment, SyncPolicy, TargetStatus } from '../lib/types';
import { currentRequestId } from '../lib/requestContext';
import { seriesEnd } from '../lib/recurrence';
import { appointmentSyncState } from '../lib/syncState';
import { requestResync, sendDesiredState } from '../workflows/appointmentSync/client';
import { rowToTargetStatus } from '../lib/targetStatus';
import {
  appointmentWorkflowId,
  syncStatusQuery,
  type AppointmentSyncStatus,
} from '../workflows/appointmentSync/contract';
import type { AppointmentBody } from './schemas';
import { HttpError } from './validation';

export type Acceptance =
  | { outcome: 'accepted'; revision: number; workflowId: string }
  | { outcome: 'ignored'; revision: number; currentRevision: number; workflowId: string };

function contentHash(desired: DesiredAppointment): string {
  // Which request carried the state, and when, is not its content: a retry must still match.
  const { requestId: _requestId, acceptedAt: _acceptedAt, ...content } = desired;
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

/** The projection's columns an accepted state writes, in the order accept() gives them. */
const PROJECTION_COLUMNS = [
  'tenant_id',
  'id',
  'revision',
  'content_hash',
  'entity_type',
  'status',
  'start_at',
  'end_at',
  'series_end_at',
  'staff_ids',
  'desired',
  'deleted_at',
  'accepted_at',
];

/**
 * The API's side of an appointment: records the desired state in the projection (which decides
 * whether a revision is new, a duplicate or stale) and hands new states to the workflow.
 */
export class AppointmentService {
  constructor(
    private readonly db: Knex,
    private readonly temporal: Client,
    private readonly taskQueue: string,
    private readonly policy: SyncPolicy,
  ) {}

  async put(
    tenantId: string,
    appointmentId: string,
    body: AppointmentBody,
    requestId = currentRequestId(),
  ): Promise<Acceptance> {
    const desired: DesiredAppointment = {
      tenantId,
      appointmentId,
      revision: body.revision,
      type: body.type,
      status: body.status,
      start: body.start,
      end: body.end,
      timeZone: body.timeZone,
      title: body.title,
      services: body.services,
      clientName: body.clientName,
      description: body.description,
      location: body.location,
      locationTimeZone: body.locationTimeZone,
      clientEmail: body.clientEmail,
      staffIds: body.staffIds,
      deleted: false,
      ...crmFields(body),
      requestId,
      acceptedAt: new Date().toISOString(),
    };
    const references = {
      staffIds: [...new Set([...body.staffIds, ...(body.sharedWithStaffIds ?? [])])],
      calendarIds: [...new Set(body.calendarIds ?? [])],
    };
    const acceptance = await this.accept(desired, references);
    if (acceptance) return acceptance;
    // Not written: a staff member or team calendar it names is unknown (the 400 says which), or the revision is not new.
    await this.assertStaffExist(tenantId, body.staffIds);
    await this.assertStaffExist(tenantId, body.sharedWithStaffIds ?? [], 'sharedWithStaffIds');
    await this.assertCalendarsExist(tenantId, body.calendarIds ?? []);
    // Every reference exists now (one was made meanwhile) or the revision is not new.
    return (await this.accept(desired, references)) ?? this.notNew(desired);
  }

  /** Cancel or delete: the stored state with one change, at the given revision or the next one. */
  async transition(
    tenantId: string,
    appointmentId: string,
    change: 'cancel' | 'delete',
    revision?: number,
    requestId = currentRequestId(),
  ): Promise<Acceptance> {
    const row = await this.db('appointments').where({ tenant_id: tenantId, id: appointmentId }).first();
    if (!row) throw new HttpError(404, 'not_found', `appointment ${appointmentId} not found`);
    const current = row.desired as DesiredAppointment;
    const next: DesiredAppointment =
      change === 'cancel' ? { ...current, status: 'cancelled' } : { ...current, deleted: true };
    // Without a revision from the CRM, a repeated cancel/delete is a retry; a first one takes the next revision.
    const alreadyThere = change === 'cancel' ? current.status === 'cancelled' && !current.deleted : current.deleted;
    next.revision = revision ?? (alreadyThere ? current.revision : current.revision + 1);
    next.requestId = requestId;
    next.acceptedAt = new Date().toISOString();
    return (await this.accept(next)) ?? this.notNew(next);
  }

  /**
   * Writes a new revision to the projection and hands it to the workflow; undefined when nothing was
   * written: the revision is not newer than the stored one, or (with `references`) a staff member or
   * team calendar it names does not exist in the tenant. One statement on the common path: the
   * references are checked inside the insert, not by a query of their own before it.
   */
  private async accept(
    desired: DesiredAppointment,
    references?: { staffIds: string[]; calendarIds: string[] },
  ): Promise<Acceptance | undefined> {
    const { tenantId, appointmentId } = desired;
    const row = [
      tenantId,
      appointmentId,
      desired.revision,
      contentHash(desired),
      desired.type,
      desired.status,
      desired.start,
      desired.end,
      desired.recurrence ? seriesEnd(desired) : null,
      desired.staffIds,
      JSON.stringify(desired),
      desired.deleted,
    ];
    const guard = references
      ? this.db.raw(
          `where (select count(*) from staff where tenant_id = ? and id = any(?::text[])) = ?
             and (select count(*) from team_calendars where tenant_id = ? and deleted_at is null and id = any(?::text[])) = ?`,
          [
            tenantId,
            references.staffIds,
            references.staffIds.length,
            tenantId,
            references.calendarIds,
            references.calendarIds.length,
          ],
        )
      : this.db.raw('where true');
    const { rows } = await this.db.raw(
      `insert into appointments as a (${PROJECTION_COLUMNS.join(', ')})
       select ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::text[], ?::jsonb, case when ? then now() end, now() ?
       on conflict (tenant_id, id) do update set
         ${PROJECTION_COLUMNS.slice(2)
           .map((c) => `${c} = excluded.${c}`)
           .join(', ')},
         -- SEQUENCE of feeds: calsync's own bounded counter of accepted changes, never the revision.
         sequence = least(a.sequence + 1, 2147483647)
       where a.revision < excluded.revision
       returning revision`,
      [...row, guard],
    );
    if (rows.length === 0) return undefined;
    await this.signal(desired);
    return {
      outcome: 'accepted',
      revision: desired.revision,
      workflowId: appointmentWorkflowId(tenantId, appointmentId),
    };
  }

  /** A revision the projection did not take: older than the stored one, or the same one again. */
  private async notNew(desired: DesiredAppointment): Promise<Acceptance> {
    const { tenantId, appointmentId } = desired;
    const workflowId = appointmentWorkflowId(tenantId, appointmentId);
    const held = await this.db('appointments')
      .where({ tenant_id: tenantId, id: appointmentId })
      .first('revision', 'content_hash');
    // Nothing stored, yet nothing written: a staff member or team calendar went away meanwhile.
    if (!held)
      throw new HttpError(
        409,
        'references_changed',
        'a staff member or team calendar it names changed meanwhile; send it again',
      );
    const heldRevision = Number(held.revision);
    if (heldRevision > desired.revision)
      return { outcome: 'ignored', revision: desired.revision, currentRevision: heldRevision, workflowId };
    if (held.content_hash !== contentHash(desired)) {
      throw new HttpError(
        409,
        'revision_conflict',
        `revision ${desired.revision} was already accepted with different content; send a higher revision`,
      );
    }
    // The same revision again: a retry of a request whose answer was lost. Signal again, harmlessly.
    await this.signal(desired);
    return { outcome: 'accepted', revision: desired.revision, workflowId };
  }

  private async signal(desired: DesiredAppointment): Promise<void> {
    await sendDesiredState(this.temporal, { taskQueue: this.taskQueue, policy: this.policy }, desired);
  }

  /** Support's replay of one appointment: retries what is not in step (everything with `force`). */
  async resync(tenantId: string, appointmentId: string, opts: { targetKey?: string; force?: boolean }) {
    const desired = await this.loadDesired(tenantId, appointmentId);
    await requestResync(this.temporal, { taskQueue: this.taskQueue, policy: this.policy }, desired, opts);
    return {
      outcome: 'resync_requested' as const,
      revision: desired.revision,
      workflowId: appointmentWorkflowId(tenantId, appointmentId),
    };
  }

  /** Every attempt on every target, oldest first, and the warnings about this appointment. */
  async log(tenantId: string, appointmentId: string, page: { limit: number; after?: number }) {
    await this.loadDesired(tenantId, appointmentId);
    const rows = await this.db('sync_log')
      .where({ tenant_id: tenantId, appointment_id: appointmentId })
      .modify((q) => {
        if (page.after !== undefined) q.where('id', '>', page.after);
      })
      .orderBy('id')
      .limit(page.limit + 1);
    const entries = rows.slice(0, page.limit).map((row: unknown) => logEntry(row));
    return {
      entries,
      warnings: entries.filter((e: ReturnType<typeof logEntry>) => e.result === 'warning'),
      nextCursor: rows.length > page.limit ? String(entries.at(-1)!.id) : null,
    };
  }

  private async loadDesired(tenantId: string, appointmentId: string): Promise<DesiredAppointment> {
    const row = await this.db('appointments').where({ tenant_id: tenantId, id: appointmentId }).first('desired');
    if (!row) throw new HttpError(404, 'not_found', `appointment ${appointmentId} not found`);
    return row.desired as DesiredAppointment;
  }

  async status(tenantId: string, appointmentId: string) {
    const row = await this.db('appointments').where({ tenant_id: tenantId, id: appointmentId }).first();
    if (!row) throw new HttpError(404, 'not_found', `appointment ${appointmentId} not found`);
    // The workflow first: every push it has seen finish is already in PostgreSQL (with the remote id
    // the provider gave), so the rows read next are never older than the workflow's view.
    const live = await this.queryWorkflow(tenantId, appointmentId);
    const stored = (
      await this.db('appointment_targets').where({ tenant_id: tenantId, appointment_id: appointmentId })
    ).map((r) => ({
      ...rowToTargetStatus(r),
      attempts: r.attempts as number,
      updatedAt: r.updated_at as Date,
    }));
    const revision = Number(row.revision);
    const targets = mergeTargets(stored, live, revision);
    const state = appointmentSyncState(targets, live?.busy ?? false);
    const desired = row.desired as DesiredAppointment;
    const warnings = await this.currentWarnings(tenantId, appointmentId, revision);
    return {
      id: appointmentId,
      revision,
      type: desired.type,
      status: desired.status,
      deleted: desired.deleted,
      start: desired.start,
      end: desired.end,
      staffIds: desired.staffIds,
      workflowId: appointmentWorkflowId(tenantId, appointmentId),
      workflowRunning: live !== undefined,
      sync: { state, targets },
      warnings,
    };
  }

  /** The warnings logged for the current revision (the latest of each kind per target), shaped like log entries. */
  private async currentWarnings(tenantId: string, appointmentId: string, revision: number) {
    const rows = await this.db('sync_log')
      .where({ tenant_id: tenantId, appointment_id: appointmentId, result: 'warning', revision })
      .orderBy('id', 'desc')
      .limit(100);
    const seen = new Set<string>();
    const latest = rows.filter((r: any) => {
      const key = `${r.target_key}\u0000${r.error_code}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    return latest.reverse().map((r: unknown) => logEntry(r));
  }

  private async queryWorkflow(tenantId: string, appointmentId: string): Promise<AppointmentSyncStatus | undefined> {
    const handle = this.temporal.workflow.getHandle(appointmentWorkflowId(tenantId, appointmentId));
    try {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') return undefined;
      return await handle.query(syncStatusQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      // No worker to answer the query right now: PostgreSQL still tells the last known state.
      return undefined;
    }
  }

  private async assertCalendarsExist(tenantId: string, calendarIds: string[]): Promise<void> {
    if (calendarIds.length === 0) return;
    const found = new Set(
      (await this.db('team_calendars')
        .where({ tenant_id: tenantId })
        .whereNull('deleted_at')
        .whereIn('id', calendarIds)
        .pluck('id')) as string[],
    );
    const index = calendarIds.findIndex((id) => !found.has(id));
    if (index >= 0) {
      throw new HttpError(
        400,
        'invalid_request',
        `calendarIds[${index}]: unknown team calendar "${calendarIds[index]}"`,
        {
          issues: [{ field: `calendarIds[${index}]`, message: 'unknown team calendar' }],
        },
      );
    }
  }

  private async assertStaffExist(tenantId: string, staffIds: string[], field = 'staffIds'): Promise<void> {
    if (staffIds.length === 0) return;
    const found = new Set(
      (await this.db('staff').where({ tenant_id: tenantId }).whereIn('id', staffIds).pluck('id')) as string[],
    );
    const index = staffIds.findIndex((id) => !found.has(id));
    if (index >= 0) {
      throw new HttpError(400, 'invalid_request', `${field}[${index}]: unknown staff member "${staffIds[index]}"`, {
        issues: [{ field: `${field}[${index}]`, message: 'unknown staff member' }],
      });
    }
  }
}

/**
 * The CRM model's fields of a body, each only when it says something: a state without them hashes
 * as it did before they existed, so a retried request from then is still recognised.
 */
function crmFields(body: AppointmentBody): Partial<DesiredAppointment> {
  const out: Partial<DesiredAppointment> = {};
  if (!body.syncEnabled) out.syncEnabled = false;
  if (body.allDay) out.allDay = true;
  if (body.calendarIds?.length) out.calendarIds = body.calendarIds;
  if (body.sharedWithStaffIds?.length) out.sharedWithStaffIds = body.sharedWithStaffIds;
  if (body.attendees?.length) out.attendees = body.attendees;
  if (body.fields && Object.keys(body.fields).length) out.fields = body.fields;
  if (body.links && (body.links.client || body.links.document)) out.links = body.links;
  if (body.attachments?.length) out.attachments = body.attachments;
  if (body.reminders) out.reminders = body.reminders;
  if (body.recurrence) out.recurrence = body.recurrence;
  return out;
}

type StoredTarget = TargetStatus & { attempts: number; updatedAt: Date };

/** PostgreSQL knows every attempt's outcome; the running workflow knows what is still to do. */
function mergeTargets(stored: StoredTarget[], live: AppointmentSyncStatus | undefined, revision: number) {
  const byKey = new Map<string, Partial<StoredTarget> & TargetStatus>(stored.map((t) => [t.targetKey, t]));
  for (const t of live?.targets ?? []) {
    const known = byKey.get(t.targetKey);
    // A retrying attempt is only visible in PostgreSQL: the workflow sees it as in flight.
    const state = t.state === 'pending' && known?.state === 'retrying' ? 'retrying' : t.state;
    // The workflow holds calsync's own id; PostgreSQL holds the one the provider gave (Graph picks its own).
    byKey.set(t.targetKey, {
      ...known,
      ...t,
      remoteId: known?.remoteId ?? t.remoteId,
      state,
      lastError: t.lastError ?? known?.lastError,
    });
  }
  return [...byKey.values()].map((t) => ({
    targetKey: t.targetKey,
    provider: t.provider,
    linkId: t.linkId,
    calendarId: t.calendarId,
    remoteId: t.remoteId,
    state: t.state === 'synced' && (t.appliedRevision ?? -1) < revision && live?.busy ? 'pending' : t.state,
    appliedRevision: t.appliedRevision,
    lastError: t.lastError ?? null,
    attempts: t.attempts ?? null,
    updatedAt: t.updatedAt ?? null,
  }));
}

export function logEntry(row: any) {
  return {
    id: Number(row.id),
    at: row.created_at as Date,
    targetKey: row.target_key as string,
    provider: row.provider as string,
    action: row.action as string,
    result: row.result as string,
    errorCode: (row.error_code ?? null) as string | null,
    errorMessage: (row.error_message ?? null) as string | null,
    remoteId: (row.remote_id ?? null) as string | null,
    revision: row.revision === null ? null : Number(row.revision),
    attempt: row.attempt ?? null,
    durationMs: row.duration_ms ?? null,
    requestId: row.request_id ?? null,
  };
}
