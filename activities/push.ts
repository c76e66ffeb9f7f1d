import { Context } from '@temporalio/activity';
import { ProviderError, asProviderError } from '../providers/errors';
import { OWNER_TAG, calsyncTag, ownerTag, renderTenantEvent } from '../content/eventContent';
import { NOT_STARTED_CODE } from '../lib/heldSyncs';
import { remoteEventId } from '../lib/remoteIds';
import { providerRegistry } from '../providers/registry';
import type { DeleteOutcome, UpsertOutcome } from '../providers/types';
import type { DesiredAppointment, PushMode, TargetSpec } from '../lib/types';
import type { LinkRow } from './credentials';
import { activityFailure } from './activityFailure';
import { isFinalAttempt, recordAttempt, targetRow } from './attemptLog';
import { attendeesNeedTelling, recordAttendeeNotice } from './attendeeNotices';
import type { ActivityDeps } from './deps';
import { actAsLink, heldFailure, isHeld } from './linkAccount';
import { syncAttempts, syncLagSeconds, syncRetries } from './metrics';

export interface PushInput {
  target: TargetSpec;
  desired: DesiredAppointment;
  mode: PushMode;
  maxAttempts: number;
  /** This copy of the event is the one that tells its attendees (set by the workflow on one target). */
  notifyAttendees?: boolean;
  /** Attempts made before this activity's own (the workflow's local first attempt). */
  attemptsBefore?: number;
}

/** How long a local first attempt waits for the account's request slot before leaving the write to a normal activity. */
const LOCAL_MAX_PACING_WAIT_MS = 2000;

export interface PushResult {
  outcome: UpsertOutcome | DeleteOutcome | 'skipped';
  remoteExists: boolean;
  /** The event's id in the remote calendar (Graph assigns its own), when known. */
  remoteId?: string;
}

/**
 * Makes one target match the desired state: writes, marks cancelled, or removes the event.
 * Idempotent by construction (deterministic event id, 409 → update, 404/410 on delete → done),
 * and every attempt leaves a sync-log row and the target's current state in PostgreSQL.
 */
export async function pushToTarget(deps: ActivityDeps, input: PushInput): Promise<PushResult> {
  const { target, desired, mode } = input;
  const { attempt: ownAttempt, isLocal: local } = Context.current().info;
  const attempt = (input.attemptsBefore ?? 0) + ownAttempt;
  const startedAt = Date.now();
  const log = deps.logger.child({
    requestId: desired.requestId,
    appointmentId: desired.appointmentId,
    target: target.targetKey,
    mode,
    revision: desired.revision,
    attempt,
  });
  if (attempt > 1) syncRetries.inc({ provider: target.provider });
  const { link, stored, settings } = await pushContext(deps, target, desired, mode);
  // On removal only whether attendees hear of it counts.
  const rendered = renderTenantEvent(desired, settings, {
    cancelled: mode === 'markCancelled',
    notifyAttendees: input.notifyAttendees,
  });
  // Attendees hear only of changes they care about, and of a removal only if they were ever told.
  const noticeKey = { tenantId: desired.tenantId, appointmentId: desired.appointmentId, targetKey: target.targetKey };
  const noticeContent = mode === 'remove' ? undefined : rendered;
  const tell = rendered.notifyAttendees ? await attendeesNeedTelling(deps, noticeKey, noticeContent) : false;
  const content = { ...rendered, quiet: !tell };
  // calsync's own id for this target (Google's event id). Graph picks its own ids: the one it gave
  // on the last write is in PostgreSQL, unless that write removed the event.
  const key = remoteEventId(desired.tenantId, desired.appointmentId, target.targetKey);
  const knownRemoteId =
    stored?.remote_id && stored.remote_id !== key && stored.applied_mode !== 'remove' ? stored.remote_id : undefined;
  const remoteIdBefore = stored?.remote_id ?? (providerTakesIds(deps, target.provider) ? key : null);
  // Read at each attempt, not fixed when the workflow scheduled the push: an earlier attempt of this
  // push may have made the event (and failed a later step), so this one updates instead of inserting.
  const believedToExist = stored?.remote_exists === true;
  // What this attempt learns of the remote event, kept even when the attempt fails after it.
  let existsAs: string | undefined;

  try {
    let result: PushResult;
    if (!link || link.status === 'disconnected') {
      // Nothing left to write to: a disconnected link cleans up its own calendar.
      if (mode !== 'remove')
        throw new ProviderError('permanent', 'link_unavailable', 'the calendar link is disconnected');
      result = { outcome: 'skipped', remoteExists: false };
    } else {
      // A link being disconnected still removes calsync's events with its tokens, and writes nothing new.
      const usable = link.status === 'active' || (link.status === 'disconnecting' && mode === 'remove');
      if (link.status === 'needs_reauth') throw heldFailure(link.status_reason);
      if (!usable) throw new ProviderError('permanent', 'link_unavailable', `the calendar link is ${link.status}`);
      const ref = {
        calendarId: target.calendarId,
        eventId: key,
        knownRemoteId,
        tag: calsyncTag(desired.tenantId, desired.appointmentId),
        notifyAttendees: tell,
      };
      result = await actAsLink(
        deps,
        link,
        async (account) => {
          const calendar = await account.calendar();
          if (mode === 'remove')
            return {
              outcome: await calendar.deleteEvent(ref),
              remoteExists: false,
              remoteId: remoteIdBefore ?? undefined,
            };
          // The owner tag lets the link's reconciliation list exactly calsync's events on this target.
          content.tags[OWNER_TAG] = ownerTag(desired.tenantId, target.targetKey);
          const written = await calendar.upsertEvent(ref, content, {
            believedToExist,
            onEventExists: (remoteId) => (existsAs = remoteId),
          });
          return { outcome: written.outcome, remoteExists: true, remoteId: written.remoteId };
        },
        // A local first attempt holds its workflow task: it does not sit out a busy account's queue.
        { requestId: desired.requestId, ...(local ? { maxPacingWaitMs: LOCAL_MAX_PACING_WAIT_MS } : {}) },
      );
      if (tell) await recordAttendeeNotice(deps, noticeKey, noticeContent);
    }
    await recordAttempt(deps, input, attempt, Date.now() - startedAt, {
      result: result.outcome,
      state: mode === 'remove' ? 'removed' : 'synced',
      remoteExists: result.remoteExists,
      remoteId: result.remoteId ?? remoteIdBefore,
    });
    syncAttempts.inc({ provider: target.provider, action: mode, result: 'ok', code: 'none' });
    if (desired.acceptedAt && result.outcome !== 'skipped') {
      syncLagSeconds.observe(
        { provider: target.provider },
        Math.max(0, Date.now() - Date.parse(desired.acceptedAt)) / 1000,
      );
    }
    log.info({ outcome: result.outcome, durationMs: Date.now() - startedAt }, 'push applied');
    return result;
  } catch (err) {
    const failure = asProviderError(err);
    // Nothing was sent: not an attempt. The workflow goes on with a normal activity.
    if (failure.code === NOT_STARTED_CODE) throw activityFailure(failure);
    // The account must be reconnected first: the write is held (no more retries), not failed, and
    // the link's workflow resumes it after the reconnect.
    const held = isHeld(failure);
    const final = isFinalAttempt(failure, attempt, input.maxAttempts);
    await recordAttempt(deps, input, attempt, Date.now() - startedAt, {
      result: held ? 'held' : 'error',
      state: held ? 'held' : final ? 'failed' : 'retrying',
      error: failure,
      remoteId: existsAs ?? remoteIdBefore,
      ...(existsAs !== undefined ? { remoteExists: true } : {}),
    });
    syncAttempts.inc({ provider: target.provider, action: mode, result: 'error', code: failure.code });
    log.warn({ code: failure.code, status: failure.status, final }, 'push failed');
    throw activityFailure(failure);
  }
}

interface StoredTarget {
  remote_id: string | null;
  applied_mode: string | null;
  remote_exists: boolean;
}

/**
 * What an attempt reads before it writes: the link, what the target's earlier attempts left, the
 * tenant's settings. One query (each of the three read alone cost a round trip per push).
 *
 * A target seen for the first time is recorded (`pending`) by the same statement, before anything
 * is sent: a first attempt runs inside its workflow task (a local activity), and when its worker
 * dies the history does not show it was tried. The appointment's next run of that task finds the
 * target in PostgreSQL with its plan and takes the event out again if the appointment has moved on.
 */
async function pushContext(
  deps: ActivityDeps,
  target: TargetSpec,
  desired: DesiredAppointment,
  mode: PushMode,
): Promise<{ link?: LinkRow; stored?: StoredTarget; settings?: Record<string, any> }> {
  const intent = { ...targetRow(target, desired), remote_id: target.remoteId ?? null, state: 'pending' };
  const query = deps.db('tenants as tn');
  if (mode !== 'remove')
    query.with(
      'intent',
      deps.db('appointment_targets').insert(intent).onConflict(['tenant_id', 'appointment_id', 'target_key']).ignore(),
    );
  const row = await query
    .leftJoin('calendar_links as l', (j) => j.on('l.tenant_id', '=', 'tn.id').andOnVal('l.id', '=', target.linkId))
    .leftJoin('appointment_targets as t', (j) =>
      j
        .on('t.tenant_id', '=', 'tn.id')
        .andOnVal('t.appointment_id', '=', desired.appointmentId)
        .andOnVal('t.target_key', '=', target.targetKey),
    )
    .where('tn.id', desired.tenantId)
    .first(
      'l.*',
      'tn.settings as tenant_settings',
      't.target_key as stored_target_key',
      't.remote_id as stored_remote_id',
      't.applied_mode as stored_applied_mode',
      't.remote_exists as stored_remote_exists',
    );
  if (!row) return {};
  const {
    tenant_settings: settings,
    stored_target_key: storedKey,
    stored_remote_id: remoteId,
    stored_applied_mode: appliedMode,
    stored_remote_exists: remoteExists,
    ...linkColumns
  } = row;
  return {
    settings,
    link: linkColumns.id ? (linkColumns as LinkRow) : undefined,
    stored: storedKey ? { remote_id: remoteId, applied_mode: appliedMode, remote_exists: remoteExists } : undefined,
  };
}

/** Whether the link's provider keeps calsync's id as the event id (then the id is known before any write). */
function providerTakesIds(deps: ActivityDeps, provider: string): boolean {
  return providerRegistry(deps.config).find(provider)?.takesEventIds ?? false;
}
