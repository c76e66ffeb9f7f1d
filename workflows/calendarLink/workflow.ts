import {
  ParentClosePolicy,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { CalsyncActivities } from '../../activities';
import { importWorkflowId, stopImportSignal } from '../busyImport/contract';
import { busyImport } from '../busyImport/workflow';
import {
  disconnectSignal,
  linkProgressQuery,
  reconnectedSignal,
  type CalendarLinkInput,
  type CalendarLinkProgress,
} from './contract';

const PAGE_PAUSE_MS = 1000;
const RESUME_PASSES = 3;
const MAX_HISTORY_EVENTS = 2000;
const RESUME_PASS_PAUSE_MS = 3000;
const CLEANUP_POLL_MS = 1000;
// Removal is retried by each appointment workflow; this bounds how long the link waits for them.
const MAX_CLEANUP_PASSES = 600;

/**
 * One connected calendar account: backfills the staff member's future appointments into it, then
 * waits; on disconnect it has calsync's events removed (unless kept), then revokes and erases the
 * tokens. Appointment workflows do the remote writes; this workflow only tells them to re-plan.
 */
export async function calendarLink(input: CalendarLinkInput): Promise<CalendarLinkProgress> {
  const acts = proxyActivities<CalsyncActivities>({
    startToCloseTimeout: '1 minute',
    retry: { maximumInterval: '30 seconds' },
  });
  const progress: CalendarLinkProgress = { phase: 'backfilling', backfilled: 0, removedFrom: 0 };
  let disconnect: { keepEvents?: boolean } | undefined;
  setHandler(linkProgressQuery, () => progress);
  setHandler(disconnectSignal, (request) => {
    disconnect ??= request;
  });
  let reconnects = 0;
  let reconnectsSeen = 0;
  setHandler(reconnectedSignal, () => {
    reconnects++;
  });
  /** Waits (at most `ms`) for a disconnect or a reconnect; true when it was a reconnect. */
  const reconnected = async (ms?: number): Promise<boolean> => {
    const wake = () => disconnect !== undefined || reconnects > reconnectsSeen;
    if (ms === undefined) await condition(wake);
    else await condition(wake, ms);
    if (disconnect || reconnects === reconnectsSeen) return false;
    reconnectsSeen = reconnects;
    return true;
  };

  // The target calendar first: a dedicated one named after the business, or the primary one (tenant
  // setting). The link is 'connecting' until then, so no appointment writes to it too early.
  let ownsCalendar = false;
  progress.phase = 'provisioning';
  while (!disconnect) {
    try {
      ownsCalendar = (await acts.provisionCalendar({ tenantId: input.tenantId, linkId: input.linkId })).owned;
      break;
    } catch {
      // Only what retrying cannot fix reaches here (a dead grant, a refusal): the link says why
      // (needs_reauth), and a reconnect tries again.
      progress.phase = 'needs_reauth';
      await reconnected();
      progress.phase = 'provisioning';
    }
  }
  progress.phase = 'backfilling';

  // Backfill: every future appointment of the staff member re-plans and finds the new target.
  let after: string | undefined;
  while (!disconnect && !input.continued) {
    const page = await acts.futureAppointmentsPage({
      tenantId: input.tenantId,
      staffId: input.staffId,
      after,
      limit: input.ratePerSecond,
    });
    if (page.length === 0) break;
    progress.backfilled += await acts.resyncAppointments({ tenantId: input.tenantId, appointmentIds: page });
    after = page.at(-1);
    if (page.length < input.ratePerSecond) break;
    await sleep(PAGE_PAUSE_MS);
  }
  if (!disconnect) progress.phase = 'connected';

  // Busy-time import runs beside the link in a workflow of its own, which outlives this one's history.
  if (!disconnect) {
    await startChild(busyImport, {
      workflowId: importWorkflowId(input.tenantId, input.linkId),
      args: [{ tenantId: input.tenantId, linkId: input.linkId }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    }).catch(() => undefined); // already running (a retried start): nothing to do
  }

  // While connected: refresh the access token ahead of its expiry (a revoked grant shows up here,
  // without a write); after a reconnect, hand the held writes back to their appointment workflows.
  while (!disconnect) {
    const upkeep = await acts.keepTokenFresh({ tenantId: input.tenantId, linkId: input.linkId });
    progress.phase = upkeep.status === 'needs_reauth' ? 'needs_reauth' : 'connected';
    const wait =
      upkeep.status === 'active' && upkeep.refreshAt !== undefined
        ? Math.max(upkeep.refreshAt - Date.now(), 1000)
        : undefined;
    if (await reconnected(wait)) {
      progress.phase = 'connected';
      await resumeHeldWrites();
    }
    // A link lives for years: a refresh an hour grows the history, so start afresh now and then.
    const info = workflowInfo();
    if (
      !disconnect &&
      reconnects === reconnectsSeen &&
      (info.continueAsNewSuggested || info.historyLength > MAX_HISTORY_EVENTS)
    ) {
      await continueAsNew<typeof calendarLink>({ ...input, continued: true });
    }
  }
  // Imported busy time stops counting at once; the import workflow erases it and stops its channels.
  await getExternalWorkflowHandle(importWorkflowId(input.tenantId, input.linkId))
    .signal(stopImportSignal)
    .catch(() => undefined);
  const keepEvents = disconnect!.keepEvents ?? input.onDisconnect === 'keep';
  if (!keepEvents) {
    // The link is 'disconnecting': appointment workflows no longer want it and remove their events.
    progress.phase = 'removing_events';
    // calsync's own calendar goes as a whole; the appointment workflows then only note their events gone.
    if (ownsCalendar) {
      try {
        await acts.deleteLinkCalendar({ tenantId: input.tenantId, linkId: input.linkId });
      } catch {
        // A dead grant cannot delete anything; the tokens are erased all the same below.
      }
    }
    for (let pass = 0; pass < MAX_CLEANUP_PASSES; pass++) {
      const left = await acts.appointmentsOnLink({
        tenantId: input.tenantId,
        linkId: input.linkId,
        limit: input.ratePerSecond,
      });
      if (left.length === 0) break;
      progress.removedFrom += await acts.resyncAppointments({ tenantId: input.tenantId, appointmentIds: left });
      await sleep(Math.max(CLEANUP_POLL_MS, PAGE_PAUSE_MS));
    }
  }
  await acts.retireLink({ tenantId: input.tenantId, linkId: input.linkId });
  progress.phase = 'disconnected';
  return progress;

  /**
   * Every appointment whose write to this link was held re-plans, at the backfill's rate. A write
   * that was in flight during the reconnect can be held just after a pass: a few passes catch it.
   */
  async function resumeHeldWrites(): Promise<void> {
    for (let pass = 0; pass < RESUME_PASSES && !disconnect; pass++) {
      let found = 0;
      let from: string | undefined;
      while (!disconnect) {
        const page = await acts.heldAppointmentsPage({
          tenantId: input.tenantId,
          linkId: input.linkId,
          after: from,
          limit: input.ratePerSecond,
        });
        if (page.length === 0) break;
        found += await acts.resyncAppointments({ tenantId: input.tenantId, appointmentIds: page });
        from = page.at(-1);
        await sleep(PAGE_PAUSE_MS);
      }
      if (found === 0 && pass > 0) break;
      await sleep(RESUME_PASS_PAUSE_MS);
    }
  }
}
