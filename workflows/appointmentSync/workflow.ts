import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  isCancellation,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { CalsyncActivities } from '../../activities';
import {
  CalsyncEntityId,
  CalsyncStaff,
  CalsyncState,
  CalsyncTenant,
  type CalsyncStateValue,
} from '../../lib/searchAttributes';
import { NOT_STARTED_CODE } from '../../lib/heldSyncs';
import type { AppointmentSyncState } from '../../lib/syncState';
import type { DesiredAppointment, TargetStatus } from '../../lib/types';
import { webhookWorkflowId, type WebhookDelivery } from '../deliverWebhook/contract';
import { deliverWebhook } from '../deliverWebhook/workflow';
import {
  desiredStateSignal,
  resyncSignal,
  syncStatusQuery,
  targetRetryingSignal,
  type AppointmentSyncInput,
} from './contract';
import {
  ALL_TARGETS,
  NOTHING_LOGGED,
  appliedStatus,
  crmNotice,
  failedStatus,
  pendingStatus,
  planRound,
  summaryState,
  type TargetWrite,
} from './plan';

/**
 * One appointment's lifecycle: holds the newest desired state and makes every target match it.
 * The loop, timers, signals and activity calls live here; what to write is decided in plan.ts.
 */
export async function appointmentSync(input: AppointmentSyncInput): Promise<string> {
  const { tenantId, appointmentId, policy } = input;
  // Database lookups of a few milliseconds run as local activities: no round trips through the
  // server, no extra workflow tasks.
  const lookups = proxyLocalActivities<CalsyncActivities>({
    startToCloseTimeout: '30 seconds',
    localRetryThreshold: '10 seconds',
    retry: { initialInterval: '200 ms', maximumInterval: '10 seconds' },
  });
  // A write's first attempt runs as a local activity, inside the workflow task that decided it: no
  // activity task through the server and no second workflow task for its result, which is most of
  // what a change costs Temporal. Only a failed first attempt goes on as a normal activity, with the
  // server's retries, backoff and cancellation by a newer revision. The push is idempotent either
  // way (a worker lost mid-attempt repeats it, as it would a normal activity's).
  const firstAttempt = proxyLocalActivities<CalsyncActivities>({
    // As long as a provider request may take (SYNC_ACTIVITY_TIMEOUT_MS): a shorter one would end the
    // attempt while its request is still under way, and a write landing after it could undo a newer one.
    startToCloseTimeout: policy.activityTimeoutMs,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { maximumAttempts: 1 },
  });
  const remote = proxyActivities<CalsyncActivities>({
    startToCloseTimeout: policy.activityTimeoutMs,
    // A newer revision cancels the pushes of an older one (see reconcile). Waiting for the
    // cancellation to complete means an attempt already sending the older content has finished
    // (the server starts no further attempt once cancellation is requested) before the newer
    // content is written: the older content never lands after the newer.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: policy.activityInitialRetryMs,
      backoffCoefficient: 2,
      maximumInterval: policy.activityMaxRetryMs,
      // The first attempt was the local one.
      maximumAttempts: policy.activityMaxAttempts > 0 ? Math.max(1, policy.activityMaxAttempts - 1) : 0,
    },
  });

  let desired: DesiredAppointment | undefined = input.carried?.desired;
  let dirty = input.carried?.dirty ?? false;
  const forced = new Set<string>();
  let logged = NOTHING_LOGGED;
  let notifyCrm = false;
  let lastReportedState: AppointmentSyncState | undefined;
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
  // server, so only what is missing is written, and the state only when it changes.
  const startedWith = workflowInfo().typedSearchAttributes;
  if (startedWith.get(CalsyncTenant) === undefined) {
    upsertSearchAttributes([
      { key: CalsyncTenant, value: tenantId },
      { key: CalsyncEntityId, value: appointmentId },
    ]);
  }
  let shownState = startedWith.get(CalsyncState);
  const setState = (state: CalsyncStateValue) => {
    if (state === shownState) return;
    shownState = state;
    upsertSearchAttributes([{ key: CalsyncState, value: state }]);
  };
  // The staff list follows reassignments; runs started before CalsyncStaff existed leave it alone
  // (their histories replay unchanged).
  let shownStaff = startedWith.get(CalsyncStaff);
  const setStaff = (staffIds: string[]) => {
    if (shownStaff === undefined || shownStaff.join('\u0000') === staffIds.join('\u0000')) return;
    shownStaff = staffIds;
    upsertSearchAttributes([{ key: CalsyncStaff, value: staffIds }]);
  };

  // A write being retried: shown as `retrying` until its activity ends (the round then sets the state).
  setHandler(targetRetryingSignal, ({ targetKey, revision }) => {
    const target = targets.get(targetKey);
    if (!busy || !target || target.state !== 'pending' || revision !== desired?.revision) return;
    targets.set(targetKey, { ...target, state: 'retrying' });
    setState(summaryState([...targets.values()]));
  });

  async function push({ spec, mode, notifyAttendees }: TargetWrite, current: DesiredAppointment): Promise<void> {
    const entry = pendingStatus(spec, targets.get(spec.targetKey));
    targets.set(spec.targetKey, entry);
    try {
      // What exists remotely is read from the target's stored state at each attempt, not decided here.
      const args = {
        target: spec,
        desired: current,
        mode,
        maxAttempts: policy.activityMaxAttempts,
        ...(notifyAttendees ? { notifyAttendees } : {}),
      };
      // The client's e-mail invitation is a target too: same states, same trail, another activity.
      const result = spec.kind === 'invitation' ? await remote.sendClientInvitation(args) : await pushToCalendar(args);
      targets.set(spec.targetKey, appliedStatus(entry, mode, current.revision, result.remoteExists));
    } catch (err) {
      // Superseded by a newer revision: not a failure; the next round writes the newer one.
      if (isCancellation(err) || CancellationScope.current().consideredCancelled) return;
      const cause = err instanceof ActivityFailure ? err.cause : err;
      const code = cause instanceof ApplicationFailure ? (cause.type ?? 'unknown') : 'unknown';
      targets.set(spec.targetKey, failedStatus(entry, code, (cause as Error)?.message ?? String(cause)));
    }
  }

  /** A calendar write: the local first attempt, then (if it failed and may be retried) the server's retries. */
  async function pushToCalendar(args: Parameters<CalsyncActivities['pushToTarget']>[0]) {
    try {
      return await firstAttempt.pushToTarget(args);
    } catch (err) {
      const cause = err instanceof ActivityFailure ? err.cause : err;
      const refused = cause instanceof ApplicationFailure && cause.nonRetryable;
      // A local attempt that found the account busy sent nothing: the activity's first attempt is the first.
      const notStarted = cause instanceof ApplicationFailure && cause.type === NOT_STARTED_CODE;
      if (refused || isCancellation(err) || (policy.activityMaxAttempts === 1 && !notStarted)) throw err;
      // The provider's Retry-After, else the first backoff; a newer revision cancels the wait.
      await sleep(retryAfterOf(cause) ?? policy.activityInitialRetryMs);
      return remote.pushToTarget({ ...args, attemptsBefore: notStarted ? 0 : 1 });
    }
  }

  /**
   * Runs a round's writes until they end or a newer revision arrives; then the writes still under
   * way (running, or waiting for their next attempt) are cancelled and the round ends at once.
   * Answers whether the round was superseded.
   */
  async function pushAll(writes: TargetWrite[], current: DesiredAppointment): Promise<boolean> {
    let settled = false;
    const scope = new CancellationScope();
    const work = scope
      .run(() => Promise.all(writes.map((write) => push(write, current))))
      .finally(() => (settled = true));
    await condition(() => settled || (desired !== undefined && desired.revision > current.revision));
    if (settled) {
      await work;
      return false;
    }
    scope.cancel();
    await work;
    return true;
  }

  /** One round towards `current`; answers whether a newer revision cut it short. */
  async function reconcile(current: DesiredAppointment, forcedKeys: Set<string>): Promise<boolean> {
    const plan = await lookups.planTargets({
      tenantId,
      appointmentId,
      staffIds: current.deleted ? [] : current.staffIds,
      entityType: current.type,
      syncEnabled: current.syncEnabled !== false,
      calendarIds: current.deleted ? [] : (current.calendarIds ?? []),
      sharedWithStaffIds: current.deleted ? [] : (current.sharedWithStaffIds ?? []),
    });
    // What PostgreSQL knows of targets this history does not: what earlier runs left behind, and a
    // write begun by a first attempt whose worker died before its workflow task completed.
    for (const t of plan.storedTargets) if (!targets.has(t.targetKey)) targets.set(t.targetKey, t);
    notifyCrm = plan.settings.notifyCrm;
    const round = planRound({ desired: current, plan, targets: [...targets.values()], forced: forcedKeys, logged });
    logged = round.logged;
    if (round.record)
      await lookups.recordWarnings({ tenantId, appointmentId, revision: current.revision, ...round.record });
    return pushAll(round.writes, current);
  }

  async function notifyStateChange(current: DesiredAppointment, state: AppointmentSyncState): Promise<void> {
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
          targets: [...targets.values()].map((t) => ({
            targetKey: t.targetKey,
            state: t.state,
            errorCode: t.lastError?.code ?? null,
          })),
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

  // One timer for the next wake-up (closing, or retrying a failed target), kept while that time stays
  // the same: a change that wakes the workflow neither cancels it nor starts another (two history
  // events and a timer task fewer per change).
  let wake: { at: number; fired: boolean; scope: CancellationScope } | undefined;
  function wakeTimer(at: number): { fired: boolean } {
    if (wake?.at === at) return wake;
    wake?.scope.cancel();
    const next = { at, fired: false, scope: new CancellationScope() };
    next.scope
      .run(() => sleep(at - Date.now()))
      .then(
        () => (next.fired = true),
        () => undefined,
      );
    wake = next;
    return next;
  }

  function closeAt(): number {
    if (!desired || desired.deleted) return Date.now();
    return Date.parse(desired.end) + policy.closeAfterEndMs;
  }

  for (;;) {
    if (!dirty) {
      // Asleep until a change, the retry of a failed target, or the time to close.
      const retryAt = failedAt !== undefined ? failedAt + policy.failedTargetRetryMs : Infinity;
      const wakeAt = Math.min(closeAt(), retryAt);
      if (wakeAt > Date.now()) {
        const timer = wakeTimer(wakeAt);
        await condition(() => dirty || timer.fired);
      }
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
    while (rounds > 0) {
      const waitMs = Math.min(lastChangeAt + policy.coalesceMs, burstStartedAt + policy.coalesceMaxMs) - Date.now();
      if (waitMs <= 0) break;
      await sleep(waitMs);
    }

    rounds++;
    dirty = false;
    const forcedNow = new Set(forced);
    forced.clear();
    busy = true;
    const superseded = await reconcile(desired!, forcedNow);
    busy = false;
    if (superseded) {
      // Straight to the newer revision: the cut-short round reports nothing (its targets are not failed).
      for (const key of forcedNow) forced.add(key);
      continue;
    }
    const state = summaryState([...targets.values()]);
    failedAt = state === 'failed' ? Date.now() : undefined;
    setState(state);
    setStaff(desired!.staffIds);
    setCurrentDetails(describeTargets(desired!, [...targets.values()]));
    const notice = crmNotice(state, lastReportedState, notifyCrm);
    if (notice) await notifyStateChange(desired!, notice);
    lastReportedState = state;

    const info = workflowInfo();
    if (!dirty && (info.continueAsNewSuggested || info.historyLength > policy.continueAsNewAfterEvents)) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof appointmentSync>({
        ...input,
        carried: { desired, targets: [...targets.values()], dirty },
      });
    }
  }

  setState('closed');
  setCurrentDetails(`closed at revision ${desired?.revision ?? '-'}`);
  return desired?.deleted ? 'deleted' : 'closed';
}

/** The provider's Retry-After carried by an activity's failure (activities/activityFailure.ts), if any. */
function retryAfterOf(failure: unknown): number | undefined {
  if (!(failure instanceof ApplicationFailure)) return undefined;
  const [details] = (failure.details ?? []) as { retryAfterMs?: number | null }[];
  if (typeof details?.retryAfterMs === 'number') return Math.max(details.retryAfterMs, 100);
  return typeof failure.nextRetryDelay === 'number' ? failure.nextRetryDelay : undefined;
}

/** The workflow's current details in Temporal UI: one line per target. */
function describeTargets(desired: DesiredAppointment, targets: TargetStatus[]): string {
  const lines = targets.map(
    (t) =>
      `- ${t.targetKey} (${t.provider}): ${t.state}, revision ${t.appliedRevision ?? '-'}${t.lastError ? `, ${t.lastError.code}` : ''}`,
  );
  return [`**revision ${desired.revision}**, ${desired.deleted ? 'deleted' : desired.status}`, ...lines].join('\n');
}
