import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CalsyncActivities } from '../activities';
import { CalsyncEntityId, CalsyncState, CalsyncTenant, type CalsyncStateValue } from '../lib/searchAttributes';
import type { DesiredAppointment, PushMode, TargetSpec, TargetStatus } from '../lib/types';
import { desiredStateSignal, resyncSignal, syncStatusQuery, type AppointmentSyncInput } from './definitions';

// A target that failed after all its retries is tried again this long after, while the workflow lives.
const FAILED_TARGET_RETRY_MS = 10 * 60 * 1000;

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
  let forceResync = false;
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
  setHandler(resyncSignal, () => {
    forceResync = true;
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

  async function reconcile(current: DesiredAppointment, force: boolean): Promise<void> {
    const plan = await lookups.planTargets({ tenantId, appointmentId, staffIds: current.deleted ? [] : current.staffIds });
    const cancelled = current.status === 'cancelled';
    const keepCancelled = cancelled && plan.settings.cancelledEvents === 'keep';
    const wanted = current.deleted || (cancelled && !keepCancelled) ? [] : plan.targets;
    const mode: PushMode = keepCancelled ? 'markCancelled' : 'upsert';
    const wantedKeys = new Set(wanted.map((t) => t.targetKey));

    const work: Promise<void>[] = [];
    for (const spec of wanted) {
      const now = targets.get(spec.targetKey);
      const upToDate = now?.state === 'synced' && now.appliedRevision === current.revision && now.appliedMode === mode;
      if (!upToDate || force) work.push(push(spec, mode, current));
    }
    // Reassigned away, disconnected, cancelled or deleted: take the event out of that calendar.
    for (const now of targets.values()) {
      if (wantedKeys.has(now.targetKey) || (now.state === 'removed' && !force)) continue;
      work.push(push(now, 'remove', current));
    }
    await Promise.all(work);
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
    const force = forceResync;
    forceResync = false;
    busy = true;
    setState('pending');
    await reconcile(desired!, force);
    busy = false;
    const state = summaryState();
    failedAt = state === 'failed' ? Date.now() : undefined;
    setState(state);

    const info = workflowInfo();
    if (!dirty && (info.continueAsNewSuggested || info.historyLength > policy.continueAsNewAfterEvents)) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof appointmentSync>({ ...input, carried: { desired, targets: [...targets.values()], dirty } });
    }
  }

  setState('closed');
  return desired?.deleted ? 'deleted' : 'closed';
}
