import { requestResync } from '../workflows/appointmentSync/client';
import type { PassRow } from '../lib/reconcileTypes';
import type { DesiredAppointment } from '../lib/types';
import type { ActivityDeps } from './deps';
import { reconcileEvents } from './metrics';

/** Sync-log codes of reconciliation (action `reconcile`). */
export type DriftCode = 'changed_by_hand' | 'deleted_by_hand' | 'owner_tag_missing';

const driftMessages: Record<DriftCode, (fields?: string[]) => string> = {
  changed_by_hand: (fields) => `the event was changed in the calendar (${fields!.join(', ')})`,
  deleted_by_hand: () => 'the event was deleted from the calendar',
  owner_tag_missing: () => 'the event is in step but carries no owner tag (written before calsync tagged it)',
};

export interface Drift {
  appointmentId: string;
  desired: DesiredAppointment;
  code: DriftCode;
  remoteId: string | null;
  /** When the target was last written: a restore asked for after that is still on its way. */
  targetUpdatedAt: Date;
  fields?: string[];
}

/** Counts of a page or of a pass's end, as metrics too. */
export function observe(provider: string, counts: Record<string, number>): void {
  for (const [outcome, n] of Object.entries(counts))
    if (outcome !== 'listed' && n > 0) reconcileEvents.inc({ provider, outcome }, n);
}

/**
 * Hands drift to the appointment workflows (restore on: a forced rewrite of that one target, so
 * the event keeps one writer) or only records it (restore off; once per revision and kind).
 * Every decision is a sync-log row of the appointment, action `reconcile`.
 */
export async function handleDrift(
  deps: ActivityDeps,
  pass: PassRow,
  provider: string,
  drifts: Drift[],
): Promise<{ restoreRequested: number; driftRecorded: number }> {
  let restoreRequested = 0;
  let driftRecorded = 0;
  const routing = { taskQueue: deps.config.taskQueue, policy: deps.config.sync };
  for (const d of drifts) {
    const message = driftMessages[d.code](d.fields);
    // A missing owner tag is not a person's change: adding it rewrites nothing they see.
    const restore = pass.restore || d.code === 'owner_tag_missing';
    const row = {
      tenant_id: pass.tenant_id,
      appointment_id: d.appointmentId,
      target_key: pass.target_key,
      provider,
      action: 'reconcile',
      error_code: d.code,
      remote_id: d.remoteId,
      revision: d.desired.revision,
    };
    const last = await deps
      .db('sync_log')
      .where({
        tenant_id: pass.tenant_id,
        appointment_id: d.appointmentId,
        target_key: pass.target_key,
        action: 'reconcile',
      })
      .orderBy('id', 'desc')
      .first('result', 'error_code', 'revision', 'created_at');
    const sameDrift = last && last.error_code === d.code && Number(last.revision) === d.desired.revision;
    if (restore) {
      // Asked already and the workflow has not written the target since: asking again would only
      // cost a second write.
      if (sameDrift && last.result === 'restore_requested' && new Date(last.created_at) > new Date(d.targetUpdatedAt))
        continue;
      await requestResync(deps.temporal, routing, d.desired, { targetKey: pass.target_key, force: true });
      await deps
        .db('sync_log')
        .insert({ ...row, result: 'restore_requested', error_message: `${message}; rewriting it` });
      restoreRequested++;
      continue;
    }
    if (sameDrift && last.result === 'warning') continue;
    // A warning of the current revision: GET /v1/appointments/:id shows it, and the log keeps it.
    await deps.db('sync_log').insert({
      ...row,
      result: 'warning',
      error_message: `${message}; not restored (settings.reconcileRestore is off)`,
    });
    driftRecorded++;
  }
  return { restoreRequested, driftRecorded };
}
