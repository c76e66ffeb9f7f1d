import { condition, defineQuery, defineSignal, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { CalsyncActivities } from '../activities';

export interface CalendarLinkInput {
  tenantId: string;
  linkId: string;
  staffId: string;
  /** Appointments handed to their workflows per second during backfill and cleanup. */
  ratePerSecond: number;
  /** What happens to calsync's events when the link is disconnected: a tenant setting. */
  onDisconnect?: 'remove' | 'keep';
}

export interface CalendarLinkProgress {
  phase: 'backfilling' | 'connected' | 'removing_events' | 'disconnected';
  backfilled: number;
  removedFrom: number;
}

export const disconnectSignal = defineSignal<[{ keepEvents?: boolean }]>('disconnect');
export const linkProgressQuery = defineQuery<CalendarLinkProgress>('linkProgress');

export function linkWorkflowId(tenantId: string, linkId: string): string {
  return `link:${tenantId}:${linkId}`;
}

const PAGE_PAUSE_MS = 1000;
const CLEANUP_POLL_MS = 1000;
// Removal is retried by each appointment workflow; this bounds how long the link waits for them.
const MAX_CLEANUP_PASSES = 600;

/**
 * One connected calendar account: backfills the staff member's future appointments into it, then
 * waits; on disconnect it has calsync's events removed (unless kept), then revokes and erases the
 * tokens. Appointment workflows do the remote writes; this workflow only tells them to re-plan.
 */
export async function calendarLink(input: CalendarLinkInput): Promise<CalendarLinkProgress> {
  const acts = proxyActivities<CalsyncActivities>({ startToCloseTimeout: '1 minute', retry: { maximumInterval: '30 seconds' } });
  const progress: CalendarLinkProgress = { phase: 'backfilling', backfilled: 0, removedFrom: 0 };
  let disconnect: { keepEvents?: boolean } | undefined;
  setHandler(linkProgressQuery, () => progress);
  setHandler(disconnectSignal, (request) => {
    disconnect ??= request;
  });

  // Backfill: every future appointment of the staff member re-plans and finds the new target.
  let after: string | undefined;
  while (!disconnect) {
    const page = await acts.futureAppointmentsPage({ tenantId: input.tenantId, staffId: input.staffId, after, limit: input.ratePerSecond });
    if (page.length === 0) break;
    progress.backfilled += await acts.resyncAppointments({ tenantId: input.tenantId, appointmentIds: page });
    after = page.at(-1);
    if (page.length < input.ratePerSecond) break;
    await sleep(PAGE_PAUSE_MS);
  }
  if (!disconnect) progress.phase = 'connected';

  await condition(() => disconnect !== undefined);
  const keepEvents = disconnect!.keepEvents ?? input.onDisconnect === 'keep';
  if (!keepEvents) {
    // The link is 'disconnecting': appointment workflows no longer want it and remove their events.
    progress.phase = 'removing_events';
    for (let pass = 0; pass < MAX_CLEANUP_PASSES; pass++) {
      const left = await acts.appointmentsOnLink({ tenantId: input.tenantId, linkId: input.linkId, limit: input.ratePerSecond });
      if (left.length === 0) break;
      progress.removedFrom += await acts.resyncAppointments({ tenantId: input.tenantId, appointmentIds: left });
      await sleep(Math.max(CLEANUP_POLL_MS, PAGE_PAUSE_MS));
    }
  }
  await acts.retireLink({ tenantId: input.tenantId, linkId: input.linkId });
  progress.phase = 'disconnected';
  return progress;
}
