import { condition, continueAsNew, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { CalsyncActivities } from '../../activities';
import {
  reconcileNowSignal,
  reconcileStatusQuery,
  type ReconcileLinkInput,
  type ReconcileLinkStatus,
} from './contract';

// Each pass adds a few events per page; a long-lived link starts afresh well before the history grows.
const DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS = 2000;

/**
 * One calendar link's periodic full pass over the events calsync owns in its calendar: drift is
 * restored through the appointment workflows (or only recorded, per tenant setting), orphans are
 * removed. Decisions only; listing, comparing and deleting happen in activities, page by page,
 * with a pause between pages. Ends when the link is disconnected.
 */
export async function reconcileLink(input: ReconcileLinkInput): Promise<ReconcileLinkStatus> {
  // Listing and comparing talk to the provider: a few attempts, then the pass fails and the next
  // interval tries again. Opening and closing a pass are PostgreSQL only: retried until they work,
  // so an outage never ends the link's reconciliation.
  const remote = proxyActivities<CalsyncActivities>({
    startToCloseTimeout: '5 minutes',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 5 },
  });
  const bookkeeping = proxyActivities<CalsyncActivities>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  });
  const { tenantId, linkId, schedule } = input;
  const status: ReconcileLinkStatus = {
    phase: 'waiting',
    passes: input.carried?.passes ?? 0,
    lastPass: input.carried?.lastPass,
  };
  let requested = input.carried?.requested ?? false;
  setHandler(reconcileNowSignal, () => {
    requested = true;
  });
  setHandler(reconcileStatusQuery, () => status);

  for (;;) {
    status.phase = 'waiting';
    await condition(() => requested, schedule.intervalMs);
    const trigger = requested ? 'request' : 'schedule';
    requested = false;
    status.phase = 'reconciling';
    const begun = await bookkeeping.beginReconcilePass({ tenantId, linkId, trigger });
    if (begun.stop) break;
    if (begun.passId) {
      try {
        let pageToken: string | undefined;
        do {
          pageToken = (
            await remote.reconcilePage({ tenantId, passId: begun.passId, pageToken, pageSize: schedule.pageSize })
          ).nextPageToken;
          if (pageToken) await sleep(schedule.pagePauseMs);
        } while (pageToken);
        status.lastPass = await remote.finishReconcilePass({
          tenantId,
          passId: begun.passId,
          batchSize: schedule.pageSize,
          pauseMs: schedule.pagePauseMs,
        });
      } catch (err) {
        // A listing that did not complete proves nothing is missing: the pass ends without judging.
        status.lastPass = await bookkeeping.failReconcilePass({
          tenantId,
          passId: begun.passId,
          detail: String((err as Error)?.cause ?? err).slice(0, 500),
        });
      }
    } else {
      status.lastPass = begun.skipped;
    }
    status.passes++;
    const info = workflowInfo();
    if (
      info.continueAsNewSuggested ||
      info.historyLength > (schedule.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS)
    ) {
      await continueAsNew<typeof reconcileLink>({
        ...input,
        carried: { passes: status.passes, requested, lastPass: status.lastPass },
      });
    }
  }
  status.phase = 'stopped';
  return status;
}
