import {
  ActivityFailure,
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { CalsyncActivities } from '../activities';
import { CalsyncEntityId, CalsyncState, CalsyncTenant, type CalsyncStateValue } from '../lib/searchAttributes';
import type { DesiredAppointment, PushMode, TargetSpec, TargetStatus } from '../lib/types';
import { webhookWorkflowId, type WebhookDelivery } from '../lib/webhookEvents';
import { deliverWebhook } from './deliverWebhook';
import { desiredStateSignal, resyncSignal, syncStatusQuery, type AppointmentSyncInput } from './definitions';

// A target that failed after all its retries is tried again this long after, while the workflow lives.
const FAILED_TARGET_RETRY_MS = 10 * 60 * 1000;
const ALL_TARGETS = '*';

/**
 * One appointment's lifecycle: holds the newest desired state and makes every target match it.
 * Decisions only; every remote write and database access happens in activities.
 */
export async function appointmentSync(input: AppointmentSyncInput): Promise<string> {
  const { tenantId, appointmentId, policy } = input;
  const lookups = proxyActivities<CalsyncActivities>({
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
  let notifyCrm = false;
  let lastReportedState: CalsyncStateValue | undefined;
  let busy = false;
  let lastChangeAt = Date.now();
  let failedAt: number | undefined;
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

  upsertSearchAttributes([
    { key: CalsyncTenant, value: tenantId },
    { key: CalsyncEntityId, value: appointmentId },
  ]);
  const setState = (state: CalsyncStateValue) => upsertSearchAttributes([{ key: CalsyncState, value: state }]);

  if (!input.carried) {
    for (const t of await lookups.loadTargetStatuses({ tenantId, appointmentId })) targets.set(t.targetKey, t);
  }

  async function push(spec: TargetSpec, mode: PushMode, current: DesiredAppointment): Promise<void> {
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
      const result = await remote.pushToTarget({
        target: spec,
        desired: current,
        mode,
        believedToExist: entry.remoteExists && entry.appliedMode !== 'remove',
        maxAttempts: policy.activityMaxAttempts,
      });
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
      targets.set(spec.targetKey, { ...entry, state: 'failed', lastError: { code, message: (cause as Error)?.message ?? String(cause) } });
    }
  }

  async function reconcile(current: DesiredAppointment, forcedKeys: Set<string>): Promise<void> {
    const plan = await lookups.planTargets({ tenantId, appointmentId, staffIds: current.deleted ? [] : current.staffIds });
    const isForced = (key: string) => forcedKeys.has(ALL_TARGETS) || forcedKeys.has(key);
    notifyCrm = plan.settings.notifyCrm;
    // A staff member with nothing connected is worth a warning in the log, once per change.
    const warnings = current.deleted || current.status === 'cancelled' ? [] : plan.staffWithoutCalendar;
    if (warnings.join(',') !== warningsLogged) {
      warningsLogged = warnings.join(',');
      if (warnings.length > 0) await lookups.recordWarnings({ tenantId, appointmentId, revision: current.revision, staffWithoutCalendar: warnings });
    }
    const cancelled = current.status === 'cancelled';
    const keepCancelled = cancelled && plan.settings.cancelledEvents === 'keep';
    const wanted = current.deleted || (cancelled && !keepCancelled) ? [] : plan.targets;
    const mode: PushMode = keepCancelled ? 'markCancelled' : 'upsert';
    const wantedKeys = new Set(wanted.map((t) => t.targetKey));

    const work: Promise<void>[] = [];
    for (const spec of wanted) {
      const now = targets.get(spec.targetKey);
      const upToDate = now?.state === 'synced' && now.appliedRevision === current.revision && now.appliedMode === mode;
      if (!upToDate || isForced(spec.targetKey)) work.push(push(spec, mode, current));
    }
    // Reassigned away, disconnected, cancelled or deleted: take the event out of that calendar.
    for (const now of targets.values()) {
      if (wantedKeys.has(now.targetKey) || (now.state === 'removed' && !isForced(now.targetKey))) continue;
      work.push(push(now, 'remove', current));
    }
    await Promise.all(work);
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
    return [...targets.values()].some((t) => t.state === 'failed') ? 'failed' : 'synced';
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

    // Coalesce a burst: wait for a quiet spell, but never longer than coalesceMaxMs in all.
    const burstStartedAt = Date.now();
    for (;;) {
      const waitMs = Math.min(lastChangeAt + policy.coalesceMs, burstStartedAt + policy.coalesceMaxMs) - Date.now();
      if (waitMs <= 0) break;
      await sleep(waitMs);
    }

    dirty = false;
    const forcedNow = new Set(forced);
    forced.clear();
    busy = true;
    setState('pending');
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
