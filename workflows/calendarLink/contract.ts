import { defineQuery, defineSignal } from '@temporalio/workflow';

export interface CalendarLinkInput {
  tenantId: string;
  linkId: string;
  staffId: string;
  /** Appointments handed to their workflows per second during backfill and cleanup. */
  ratePerSecond: number;
  /** What happens to calsync's events when the link is disconnected: a tenant setting. */
  onDisconnect?: 'remove' | 'keep';
  /** Set when the workflow continued as new: provisioned and backfilled already. */
  continued?: boolean;
}

export interface CalendarLinkProgress {
  phase: 'provisioning' | 'backfilling' | 'connected' | 'needs_reauth' | 'removing_events' | 'disconnected';
  backfilled: number;
  removedFrom: number;
}

export const disconnectSignal = defineSignal<[{ keepEvents?: boolean }]>('disconnect');
/** The account was connected again (new grant stored): provisioning and held writes resume. */
export const reconnectedSignal = defineSignal('reconnected');
export const linkProgressQuery = defineQuery<CalendarLinkProgress>('linkProgress');

export function linkWorkflowId(tenantId: string, linkId: string): string {
  return `link:${tenantId}:${linkId}`;
}
