import {
  continueAsNew,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CalsyncActivities } from '../../activities';
import { CalsyncState, CalsyncTenant } from '../../lib/searchAttributes';
import { replayProgressQuery, type ReplayFailuresInput, type ReplayProgress } from './contract';

/** Support's batch replay: walks the failures that match a filter and resyncs them at a bounded rate. */
export async function replayFailures(input: ReplayFailuresInput): Promise<ReplayProgress> {
  const acts = proxyActivities<CalsyncActivities>({
    startToCloseTimeout: '1 minute',
    retry: { maximumInterval: '30 seconds' },
  });
  upsertSearchAttributes([
    { key: CalsyncTenant, value: input.tenantId },
    { key: CalsyncState, value: 'pending' },
  ]);
  // The query answers from the first moment; the total is filled in once counted.
  const progress: ReplayProgress = {
    state: 'running',
    total: input.carried?.total ?? 0,
    replayed: input.carried?.replayed ?? 0,
  };
  setHandler(replayProgressQuery, () => progress);
  if (!input.carried) progress.total = await acts.countFailures({ tenantId: input.tenantId, filter: input.filter });

  let cursor: string | undefined = input.carried?.cursor ?? undefined;
  for (;;) {
    const page = await acts.nextFailedAppointments({
      tenantId: input.tenantId,
      filter: input.filter,
      cursor,
      limit: input.ratePerSecond,
    });
    if (page.appointmentIds.length > 0) {
      progress.replayed += await acts.resyncAppointments({
        tenantId: input.tenantId,
        appointmentIds: page.appointmentIds,
      });
    }
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
    await sleep(1000);
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof replayFailures>({ ...input, carried: { ...progress, cursor: cursor ?? null } });
    }
  }
  progress.state = 'completed';
  upsertSearchAttributes([{ key: CalsyncState, value: 'synced' }]);
  return progress;
}
