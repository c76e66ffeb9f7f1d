import {
  ActivityFailure,
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { CalsyncActivities } from '../../activities';
import type { TargetPlan } from '../../activities/targets';
import { HELD_CODE } from '../../lib/heldSyncs';
import { CalsyncEntityId, CalsyncState, CalsyncTenant, type CalsyncStateValue } from '../../lib/searchAttributes';
import type { DesiredAppointment, PushMode, TargetSpec, TargetStatus } from '../../lib/types';
import { webhookWorkflowId, type WebhookDelivery } from '../deliverWebhook/contract';
import { deliverWebhook } from '../deliverWebhook/workflow';
import { desiredStateSignal, resyncSignal, syncStatusQuery, type AppointmentSyncInput } from './contract';

// A target that failed after all its retries is tried again this long after, while the workflow lives.
const FAILED_TARGET_RETRY_MS = 10 * 60 * 1000;
const ALL_TARGETS = '*';

/**
 * One appointment's lifecycle: holds the newest desired state and makes every target match it.
 * Decisions only; every remote write and database access happens in activities.
 */
export async function appointmentSync(input: AppointmentSyncInput): Promise<string> {
  const { tenantId, appointmentId, policy } = input;
  // Database lookups of a few milliseconds run as local activities (no round trips through the
  // server, no extra workflow tasks) and a run's first round skips the coalescing timer.
  // Histories from before this change replay with the old path.
  const lean = patched('lean-rounds');
  // The CRM model (entity types and appointments switched off, team calendars, attendees told by
  // one copy); histories from before it plan without them. Asked here, before any local activity,
  // so its marker always sits first in the history whatever the timing of later workflow tasks.
  const crm = patched('crm-model');
  const lookups = lean
    ? proxyLocalActivities<CalsyncActivities>({
        startToCloseTimeout: '30 seconds',
        localRetryThreshold: '10 seconds',
        retry: { initialInterval: '200 ms', maximumInterval: '10 seconds' },
      })
    : proxyActivities<CalsyncActivities>({
        startToCloseTimeout: '30 seconds',
        retry: { initialInterval: '500 ms', maximumInterval: '30 seconds' },
      });
  const remote = proxyActivities<CalsyncActivities>({
    startToCloseTimeout: policy.activityTimeoutMs,
    retry: {
      initialInterval: policy.activityInitialRetryMs,
      backoffCoefficient: 2,
      maximumInterval: policy.activityMaxRetryMs,
      maximumAttempts: policy.activityMaxAttempts,
    },
  });

  let desired: DesiredAppointment | undefined = input.carried?.desired;
  let dirty = input.carried?.dirty ?? false;
  const forced = new Set<string>();
  let warningsLogged = '';
  let invitationWarningsLogged = '';
  let syncOffLogged = '';
  let notifyCrm = false;
  let lastReportedState: CalsyncStateValue | undefined;
  let busy = false;
  let lastChangeAt = Date.now();
  let failedAt: number | undefined;
  let rounds = 0;
  const targets = new Map<string, TargetStatus>((input.carried?.targets ?? []).map((t) => [t.targetKey, t]));

  setHandler(desiredStateSignal, (next) => {
    if (next.tenantId !== tenantId || next.appointmentId !== appointmentId) return;
    // Highest revision wins: replays, duplicates and late deliveries change nothing.
    if (desired && next.revision <= desired.revision) return;
    desired = next;
    dirty = true;
    lastChangeAt = Date.now();
  });
  setHandler(resyncSignal, (request) => {
    if (request.desired && request.desired.tenantId === tenantId && request.desired.appointmentId === appointmentId) {
      if (!desired || request.desired.revision > desired.revision) desired = request.desired;
    }
    if (request.force) forced.add(request.targetKey ?? ALL_TARGETS);
    dirty = true;
    lastChangeAt = Date.now();
  });
  setHandler(syncStatusQuery, () => ({
    tenantId,
    appointmentId,
    desiredRevision: desired?.revision ?? null,
    deleted: desired?.deleted ?? false,
    status: desired?.status ?? null,
    busy: busy || dirty,
    targets: [...targets.values()],
  }));

  // Starters set the search attributes (CalsyncState "pending"); each visibility write costs the
  // server, so the lean path writes only what is missing and only when the state changes.
  const startedWith = workflowInfo().typedSearchAttributes;
  if (!lean || startedWith.get(CalsyncTenant) === undefined) {
    upsertSearchAttributes([
      { key: CalsyncTenant, value: tenantId },
      { key: CalsyncEntityId, value: appointmentId },
    ]);
  }
  let shownState = lean ? startedWith.get(CalsyncState) : undefined;
  const setState = (state: CalsyncStateValue) => {
    if (lean && state === shownState) return;
    shownState = state;
    upsertSearchAttributes([{ key: CalsyncState, value: state }]);
  };

  if (!input.carried) {
    for (const t of await lookups.loadTargetStatuses({ tenantId, appointmentId })) targets.set(t.targetKey, t);
  }

  async function push(spec: TargetSpec, mode: PushMode, current: DesiredAppointment, notifyAttendees?: boolean): Promise<void> {
    const before = targets.get(spec.targetKey);
    const entry: TargetStatus = {
      ...spec,
      state: 'pending',
      remoteExists: before?.remoteExists ?? false,
      appliedRevision: before?.appliedRevision ?? null,
      appliedMode: before?.appliedMode ?? null,
      lastError: before?.lastError,
    };
    targets.set(spec.targetKey, entry);
    try {
      const args = {
        target: spec,
        desired: current,
        mode,
        believedToExist: entry.remoteExists && entry.appliedMode !== 'remove',
        maxAttempts: policy.activityMaxAttempts,
        ...(notifyAttendees ? { notifyAttendees } : {}),
      };
      // The client's e-mail invitation is a target too: same states, same trail, another activity.
      const result = spec.provider === 'email' ? await remote.sendClientInvitation(args) : await remote.pushToTarget(args);
      targets.set(spec.targetKey, {
        ...entry,
        state: mode === 'remove' ? 'removed' : 'synced',
        remoteExists: result.remoteExists,
        appliedRevision: current.revision,
        appliedMode: mode,
        lastError: undefined,
      });
    } catch (err) {
      const cause = err instanceof ActivityFailure ? err.cause : err;
      const code = cause instanceof ApplicationFailure ? cause.type ?? 'unknown' : 'unknown';
      // The link needs re-authorisation: the write is held, not failed; the link's workflow
      // resyncs this appointment once the account is reconnected. Older histories failed it.
      const held = code === HELD_CODE && patched('held-syncs');
      targets.set(spec.targetKey, { ...entry, state: held ? 'held' : 'failed', lastError: { code, message: (cause as Error)?.message ?? String(cause) } });
    }
  }

  async function reconcile(current: DesiredAppointment, forcedKeys: Set<string>): Promise<void> {
    const switches = crm ? { entityType: current.type, syncEnabled: current.syncEnabled !== false, calendarIds: current.deleted ? [] : current.calendarIds ?? [], sharedWithStaffIds: current.deleted ? [] : current.sharedWithStaffIds ?? [] } : {};
    const plan = await lookups.planTargets({ tenantId, appointmentId, staffIds: current.deleted ? [] : current.staffIds, ...switches });
    if (crm) {
      const off = plan.syncOff ? `${current.revision}:${plan.syncOff.code}` : '';
      if (off !== syncOffLogged) {
        syncOffLogged = off;
        if (plan.syncOff) await lookups.recordWarnings({ tenantId, appointmentId, revision: current.revision, staffWithoutCalendar: [], warnings: [plan.syncOff] });
      }
    }
    const isForced = (key: string) => forcedKeys.has(ALL_TARGETS) || forcedKeys.has(key);
    notifyCrm = plan.settings.notifyCrm;
    // A staff member with nothing connected is worth a warning in the log, once per change.
    const warnings = current.deleted || current.status === 'cancelled' ? [] : plan.staffWithoutCalendar;
    if (warnings.join(',') !== warningsLogged) {
      warningsLogged = warnings.join(',');
      if (warnings.length > 0) await lookups.recordWarnings({ tenantId, appointmentId, revision: current.revision, staffWithoutCalendar: warnings });
    }
    const invitation = await planInvitation(current, plan, isForced);
    const cancelled = current.status === 'cancelled';
    const keepCancelled = cancelled && plan.settings.cancelledEvents === 'keep';
    const wanted = current.deleted || (cancelled && !keepCancelled) ? [] : plan.targets;
    const mode: PushMode = keepCancelled ? 'markCancelled' : 'upsert';
    const wantedKeys = new Set(wanted.map((t) => t.targetKey));

    // One copy of the event tells its attendees (the first calendar; when it goes, the first that had
    // it): one invitation or cancellation per person, however many staff calendars hold the event.
    const notifying = crm ? (wanted[0] ?? [...targets.values()].find((t) => t.provider !== 'email'))?.targetKey : undefined;

    const work: Promise<void>[] = [];
    if (invitation) work.push(push(invitation.spec, invitation.mode, current));
    for (const spec of wanted) {
      const now = targets.get(spec.targetKey);
      const upToDate = now?.state === 'synced' && now.appliedRevision === current.revision && now.appliedMode === mode;
      if (!upToDate || isForced(spec.targetKey)) work.push(push(spec, mode, current, spec.targetKey === notifying));
    }
    // Reassigned away, disconnected, cancelled or deleted: take the event out of that calendar.
    for (const now of targets.values()) {
      if (now.provider === 'email') continue; // the invitation is cancelled by its own plan
      if (wantedKeys.has(now.targetKey) || (now.state === 'removed' && !isForced(now.targetKey))) continue;
      work.push(push(now, 'remove', current, now.targetKey === notifying));
    }
    await Promise.all(work);
  }

  /**
   * The client's e-mail invitation: a REQUEST on create and on changes, a CANCEL on cancel and
   * delete (the activity compares what the client sees and sends nothing when that is unchanged).
   * Each missing precondition is a warning in the log, once per revision, and no mail.
   */
  async function planInvitation(current: DesiredAppointment, plan: TargetPlan, isForced: (key: string) => boolean): Promise<{ spec: TargetSpec; mode: PushMode } | undefined> {
    const spec = plan.invitationTarget;
    const switches = plan.settings.clientInvitations;
    const now = spec ? targets.get(spec.targetKey) : undefined;
    // Histories from before this feature carry no client e-mail, switches or invitation target.
    if (!spec || (!current.clientEmail && !switches?.enabled && !now)) return undefined;
    if (!patched('client-invitations')) return undefined;
    const ending = current.deleted || current.status === 'cancelled';
    if (ending && !now?.remoteExists) return undefined; // never invited: nothing to cancel
    const when = ending ? 'onCancel' : now?.remoteExists ? 'onChange' : 'onCreate';
    const warnings: { targetKey: string; provider: string; code: string; message: string }[] = [];
    const warn = (code: string, message: string) => warnings.push({ targetKey: spec.targetKey, provider: 'email', code, message });
    if (!switches?.enabled) warn('client_invitations_off', 'client invitations are switched off for this tenant (settings.clientInvitations.enabled); no e-mail is sent');
    else if (!switches[when]) warn('client_invitations_off', `client invitations are switched off for this kind of change (settings.clientInvitations.${when}); no e-mail is sent`);
    if (!current.clientEmail && !ending) warn('client_email_missing', 'the appointment has no clientEmail; no invitation is sent');
    if (!current.locationTimeZone) warn('location_time_zone_missing', 'the location has no time zone (locationTimeZone, IANA); no invitation is sent');
    const logged = warnings.length ? `${current.revision}:${warnings.map((w) => w.code).join(',')}` : '';
    if (logged !== invitationWarningsLogged) {
      invitationWarningsLogged = logged;
      if (warnings.length) await lookups.recordWarnings({ tenantId, appointmentId, revision: current.revision, staffWithoutCalendar: [], warnings });
    }
    if (warnings.length) return undefined;
    const mode: PushMode = ending ? 'remove' : 'upsert';
    const upToDate = (now?.state === 'synced' || now?.state === 'removed') && now.appliedRevision === current.revision && now.appliedMode === mode;
    return upToDate && !isForced(spec.targetKey) ? undefined : { spec, mode };
  }

  async function notifyStateChange(current: DesiredAppointment, state: 'synced' | 'failed'): Promise<void> {
    const delivery: WebhookDelivery = {
      tenantId,
      deliveryId: uuid4(),
      createdAt: new Date(Date.now()).toISOString(),
      event: {
        type: 'appointment.sync_state_changed',
        data: {
          appointmentId,
          revision: current.revision,
          state,
          targets: [...targets.values()].map((t) => ({ targetKey: t.targetKey, state: t.state, errorCode: t.lastError?.code ?? null })),
        },
      },
    };
    // A child of its own, abandoned on close: delivery retries for hours without holding this workflow.
    await startChild(deliverWebhook, {
      workflowId: webhookWorkflowId(tenantId, delivery.deliveryId),
      args: [delivery],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  }

  function summaryState(): CalsyncStateValue {
    const all = [...targets.values()];
    if (all.some((t) => t.state === 'failed')) return 'failed';
    return all.some((t) => t.state === 'held') ? 'needs_reauth' : 'synced';
  }

  function closeAt(): number {
    if (!desired || desired.deleted) return Date.now();
    return Date.parse(desired.end) + policy.closeAfterEndMs;
  }

  for (;;) {
    if (!dirty) {
      const retryAt = failedAt !== undefined ? failedAt + FAILED_TARGET_RETRY_MS : Infinity;
      const wakeAt = Math.min(closeAt(), retryAt);
      if (wakeAt > Date.now()) await condition(() => dirty, wakeAt - Date.now());
      if (!dirty && failedAt !== undefined && Date.now() >= retryAt && Date.now() < closeAt()) {
        dirty = true;
      } else if (!dirty) {
        break;
      }
    }

    // Coalesce a burst: wait for a quiet spell, but never longer than coalesceMaxMs in all. The
    // first round of a run goes at once: a new appointment should reach the calendar fast, and
    // whatever follows it within the window is coalesced into the next round.
    const burstStartedAt = Date.now();
    for (let firstRound = lean && rounds === 0; !firstRound; ) {
      const waitMs = Math.min(lastChangeAt + policy.coalesceMs, burstStartedAt + policy.coalesceMaxMs) - Date.now();
      if (waitMs <= 0) break;
      await sleep(waitMs);
    }

    rounds++;
    dirty = false;
    const forcedNow = new Set(forced);
    forced.clear();
    busy = true;
    if (!lean) setState('pending');
    await reconcile(desired!, forcedNow);
    busy = false;
    const state = summaryState();
    failedAt = state === 'failed' ? Date.now() : undefined;
    setState(state);
    setCurrentDetails(describeTargets(desired!, [...targets.values()]));
    // The CRM hears about a failure, and about the recovery from one; not about every success.
    if (notifyCrm && (state === 'failed' ? lastReportedState !== 'failed' : lastReportedState === 'failed')) {
      await notifyStateChange(desired!, state as 'synced' | 'failed');
    }
    lastReportedState = state;

    const info = workflowInfo();
    if (!dirty && (info.continueAsNewSuggested || info.historyLength > policy.continueAsNewAfterEvents)) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof appointmentSync>({ ...input, carried: { desired, targets: [...targets.values()], dirty } });
    }
  }

  setState('closed');
  setCurrentDetails(`closed at revision ${desired?.revision ?? '-'}`);
  return desired?.deleted ? 'deleted' : 'closed';
}

/** The workflow's current details in Temporal UI: one line per target. */
function describeTargets(desired: DesiredAppointment, targets: TargetStatus[]): string {
  const lines = targets.map((t) => `- ${t.targetKey} (${t.provider}): ${t.state}, revision ${t.appliedRevision ?? '-'}${t.lastError ? `, ${t.lastError.code}` : ''}`);
  return [`**revision ${desired.revision}**, ${desired.deleted ? 'deleted' : desired.status}`, ...lines].join('\n');
}
