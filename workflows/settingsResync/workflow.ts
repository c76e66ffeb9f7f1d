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
import { settingsResyncProgressQuery, type SettingsResyncInput, type SettingsResyncProgress } from './contract';

/**
 * Applies a settings change to the tenant's existing future appointments: each is asked to rewrite
 * every calendar (its workflow renders with the settings of the moment), `ratePerSecond` at a time,
 * so a bulk re-sync stays under the providers' per-user limits instead of failing against them.
 */
export async function settingsResync(input: SettingsResyncInput): Promise<SettingsResyncProgress> {
  const acts = proxyActivities<CalsyncActivities>({
    startToCloseTimeout: '1 minute',
    retry: { maximumInterval: '30 seconds' },
  });
  upsertSearchAttributes([
    { key: CalsyncTenant, value: input.tenantId },
    { key: CalsyncState, value: 'pending' },
  ]);
  const { carried, ratePerSecond, ...scope } = input;
  const progress: SettingsResyncProgress = {
    state: 'running',
    total: carried?.total ?? 0,
    resynced: carried?.resynced ?? 0,
  };
  setHandler(settingsResyncProgressQuery, () => progress);
  if (!carried) progress.total = await acts.countResyncAppointments(scope);

  let after: string | undefined = carried?.after ?? undefined;
  for (;;) {
    const pageStartedAt = Date.now();
    const page = await acts.resyncAppointmentsPage({ ...scope, after, limit: ratePerSecond });
    if (page.length === 0) break;
    progress.resynced += await acts.resyncAppointments({ tenantId: scope.tenantId, appointmentIds: page, force: true });
    after = page.at(-1);
    if (page.length < ratePerSecond) break;
    // One page per second, however long handing it over took.
    await sleep(Math.max(1, 1000 - (Date.now() - pageStartedAt)));
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof settingsResync>({ ...input, carried: { ...progress, after: after ?? null } });
    }
  }
  progress.state = 'completed';
  upsertSearchAttributes([{ key: CalsyncState, value: 'synced' }]);
  return progress;
}
