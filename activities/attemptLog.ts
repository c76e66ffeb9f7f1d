import type { ProviderError } from '../providers/errors';
import type { DesiredAppointment, PushMode, TargetSpec, TargetState } from '../lib/types';
import { reportTargetRetrying } from '../workflows/appointmentSync/client';
import type { ActivityDeps } from './deps';

export interface AttemptOutcome {
  /** What was done; the push mode unless the target names it more precisely (e.g. an iMIP method). */
  action?: string;
  result: string;
  state: TargetState;
  remoteExists?: boolean;
  /** The event's id in the remote calendar as far as known after this attempt; the target's own id by default. */
  remoteId?: string | null;
  error?: ProviderError;
}

/**
 * The trail every target leaves, whatever its kind: one sync-log row per attempt and the target's
 * current state, written together so the log and the state never disagree.
 */
export async function recordAttempt(
  deps: ActivityDeps,
  input: { target: TargetSpec; desired: DesiredAppointment; mode: PushMode },
  attempt: number,
  durationMs: number,
  outcome: AttemptOutcome,
): Promise<void> {
  const { target, desired, mode } = input;
  const remoteId = outcome.remoteId === undefined ? target.remoteId : outcome.remoteId;
  const logRow = {
    tenant_id: desired.tenantId,
    appointment_id: desired.appointmentId,
    target_key: target.targetKey,
    provider: target.provider,
    action: outcome.action ?? mode,
    result: outcome.result,
    error_code: outcome.error?.code ?? null,
    error_message: outcome.error?.message?.slice(0, 2000) ?? null,
    remote_id: remoteId,
    revision: desired.revision,
    attempt,
    duration_ms: durationMs,
    request_id: desired.requestId ?? null,
  };
  const base = {
    ...targetRow(target, desired),
    remote_id: remoteId,
    state: outcome.state,
    attempts: attempt,
    updated_at: deps.db.fn.now(),
  };
  const row = outcome.error
    ? {
        ...base,
        // A failed attempt that still made the event says so: the next attempt updates it.
        ...(outcome.remoteExists !== undefined ? { remote_exists: outcome.remoteExists } : {}),
        last_error_code: outcome.error.code,
        last_error_message: outcome.error.message.slice(0, 2000),
      }
    : {
        ...base,
        remote_exists: outcome.remoteExists ?? false,
        applied_revision: desired.revision,
        applied_mode: mode,
        last_error_code: null,
        last_error_message: null,
      };
  // One statement (the log row in a data-modifying WITH): atomic like a transaction, in one round
  // trip instead of four (begin, insert, upsert, commit). The log always gets its row; the target's
  // state does not go back to an older revision: an attempt whose workflow task was lost (its worker
  // stalled past a Temporal or PostgreSQL restart) can end after a newer revision's write, and its
  // event then stays the orphan that the newer state says it is, for reconciliation to take out.
  await deps.db
    .with('logged', deps.db('sync_log').insert(logRow))
    .insert(row)
    .into('appointment_targets')
    .onConflict(['tenant_id', 'appointment_id', 'target_key'])
    .merge()
    .whereRaw('appointment_targets.applied_revision is null or appointment_targets.applied_revision <= ?', [
      desired.revision,
    ]);
  // CalsyncState in Temporal UI shows the retry too. Best effort: the row above is the record, and
  // the signal adds at most one history event per attempt (SYNC_ACTIVITY_MAX_ATTEMPTS bounds them).
  if (outcome.state === 'retrying') {
    await reportTargetRetrying(deps.temporal, desired, target.targetKey).catch(() => undefined);
  }
}

/** The columns that name a target's row in appointment_targets and where it writes. */
export function targetRow(target: TargetSpec, desired: Pick<DesiredAppointment, 'tenantId' | 'appointmentId'>) {
  return {
    tenant_id: desired.tenantId,
    appointment_id: desired.appointmentId,
    target_key: target.targetKey,
    provider: target.provider,
    link_id: target.linkId,
    calendar_id: target.calendarId,
  };
}

/** Whether this failed attempt is the last one Temporal will make (0 attempts means unlimited). */
export function isFinalAttempt(failure: ProviderError, attempt: number, maxAttempts: number): boolean {
  return failure.kind !== 'retryable' || (maxAttempts > 0 && attempt >= maxAttempts);
}
