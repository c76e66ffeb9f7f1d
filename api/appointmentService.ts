import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Knex } from 'knex';
import type { DesiredAppointment, SyncPolicy, TargetStatus } from '../lib/types';
import { CalsyncEntityId, CalsyncState, CalsyncTenant } from '../lib/searchAttributes';
import { rowToTargetStatus } from '../activities/targets';
import {
  appointmentWorkflowId,
  desiredStateSignal,
  syncStatusQuery,
  type AppointmentSyncInput,
  type AppointmentSyncStatus,
} from '../workflows/definitions';
import type { appointmentSync } from '../workflows/appointmentSync';
import type { AppointmentBody } from './schemas';
import { HttpError } from './validation';

export type Acceptance =
  | { outcome: 'accepted'; revision: number; workflowId: string }
  | { outcome: 'ignored'; revision: number; currentRevision: number; workflowId: string };

function contentHash(desired: DesiredAppointment): string {
  return createHash('sha256').update(JSON.stringify(desired)).digest('hex');
}

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

  async put(tenantId: string, appointmentId: string, body: AppointmentBody): Promise<Acceptance> {
    await this.assertStaffExist(tenantId, body.staffIds);
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
      staffIds: body.staffIds,
      deleted: false,
    };
    return this.accept(desired);
  }

  /** Cancel or delete: the stored state with one change, at the given revision or the next one. */
  async transition(tenantId: string, appointmentId: string, change: 'cancel' | 'delete', revision?: number): Promise<Acceptance> {
    const row = await this.db('appointments').where({ tenant_id: tenantId, id: appointmentId }).first();
    if (!row) throw new HttpError(404, 'not_found', `appointment ${appointmentId} not found`);
    const current = row.desired as DesiredAppointment;
    const next: DesiredAppointment =
      change === 'cancel' ? { ...current, status: 'cancelled' } : { ...current, deleted: true };
    // Without a revision from the CRM, a repeated cancel/delete is a retry; a first one takes the next revision.
    const alreadyThere = change === 'cancel' ? current.status === 'cancelled' && !current.deleted : current.deleted;
    next.revision = revision ?? (alreadyThere ? current.revision : current.revision + 1);
    return this.accept(next);
  }

  private async accept(desired: DesiredAppointment): Promise<Acceptance> {
    const { tenantId, appointmentId } = desired;
    const workflowId = appointmentWorkflowId(tenantId, appointmentId);
    const hash = contentHash(desired);
    const values = {
      tenant_id: tenantId,
      id: appointmentId,
      revision: desired.revision,
      content_hash: hash,
      entity_type: desired.type,
      status: desired.status,
      start_at: desired.start,
      end_at: desired.end,
      staff_ids: desired.staffIds,
      desired: JSON.stringify(desired),
      deleted_at: desired.deleted ? this.db.fn.now() : null,
      accepted_at: this.db.fn.now(),
    };
    const written = await this.db('appointments')
      .insert(values)
      .onConflict(['tenant_id', 'id'])
      .merge()
      .where('appointments.revision', '<', desired.revision)
      .returning('revision');
    if (written.length === 0) {
      const held = await this.db('appointments').where({ tenant_id: tenantId, id: appointmentId }).first('revision', 'content_hash');
      const heldRevision = Number(held.revision);
      if (heldRevision > desired.revision) return { outcome: 'ignored', revision: desired.revision, currentRevision: heldRevision, workflowId };
      if (held.content_hash !== hash) {
        throw new HttpError(409, 'revision_conflict', `revision ${desired.revision} was already accepted with different content; send a higher revision`);
      }
      // The same revision again: a retry of a request whose answer was lost. Signal again, harmlessly.
    }
    await this.signal(desired);
    return { outcome: 'accepted', revision: desired.revision, workflowId };
  }

  private async signal(desired: DesiredAppointment): Promise<void> {
    const input: AppointmentSyncInput = { tenantId: desired.tenantId, appointmentId: desired.appointmentId, policy: this.policy };
    await this.temporal.workflow.signalWithStart<typeof appointmentSync, [DesiredAppointment]>('appointmentSync', {
      workflowId: appointmentWorkflowId(desired.tenantId, desired.appointmentId),
      taskQueue: this.taskQueue,
      args: [input],
      signal: desiredStateSignal,
      signalArgs: [desired],
      typedSearchAttributes: [
        { key: CalsyncTenant, value: desired.tenantId },
        { key: CalsyncEntityId, value: desired.appointmentId },
        { key: CalsyncState, value: 'pending' },
      ],
    });
  }

  async status(tenantId: string, appointmentId: string) {
    const row = await this.db('appointments').where({ tenant_id: tenantId, id: appointmentId }).first();
    if (!row) throw new HttpError(404, 'not_found', `appointment ${appointmentId} not found`);
    const stored = (await this.db('appointment_targets').where({ tenant_id: tenantId, appointment_id: appointmentId })).map((r) => ({
      ...rowToTargetStatus(r),
      attempts: r.attempts as number,
      updatedAt: r.updated_at as Date,
    }));
    const live = await this.queryWorkflow(tenantId, appointmentId);
    const revision = Number(row.revision);
    const targets = mergeTargets(stored, live, revision);
    const state = overallState(targets, live?.busy ?? false);
    const desired = row.desired as DesiredAppointment;
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
    };
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

  private async assertStaffExist(tenantId: string, staffIds: string[]): Promise<void> {
    if (staffIds.length === 0) return;
    const found = new Set((await this.db('staff').where({ tenant_id: tenantId }).whereIn('id', staffIds).pluck('id')) as string[]);
    const index = staffIds.findIndex((id) => !found.has(id));
    if (index >= 0) {
      throw new HttpError(400, 'invalid_request', `staffIds[${index}]: unknown staff member "${staffIds[index]}"`, {
        issues: [{ field: `staffIds[${index}]`, message: 'unknown staff member' }],
      });
    }
  }
}

type StoredTarget = TargetStatus & { attempts: number; updatedAt: Date };

/** PostgreSQL knows every attempt's outcome; the running workflow knows what is still to do. */
function mergeTargets(stored: StoredTarget[], live: AppointmentSyncStatus | undefined, revision: number) {
  const byKey = new Map<string, Partial<StoredTarget> & TargetStatus>(stored.map((t) => [t.targetKey, t]));
  for (const t of live?.targets ?? []) {
    const known = byKey.get(t.targetKey);
    // A retrying attempt is only visible in PostgreSQL: the workflow sees it as in flight.
    const state = t.state === 'pending' && known?.state === 'retrying' ? 'retrying' : t.state;
    byKey.set(t.targetKey, { ...known, ...t, state, lastError: t.lastError ?? known?.lastError });
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

function overallState(targets: { state: string }[], busy: boolean): string {
  if (targets.some((t) => t.state === 'failed')) return 'failed';
  if (targets.some((t) => t.state === 'retrying')) return 'retrying';
  if (busy || targets.some((t) => t.state === 'pending')) return 'pending';
  return 'synced';
}
