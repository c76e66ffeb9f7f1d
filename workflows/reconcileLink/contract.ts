import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ReconcilePassSummary } from '../../lib/reconcileTypes';

/** How a link's passes are paced: from configuration (RECONCILE_*), set by whoever starts the workflow. */
export interface ReconcileSchedule {
  intervalMs: number;
  pageSize: number;
  pagePauseMs: number;
  /** History length at which the workflow continues as new (absent in histories before it was configurable). */
  continueAsNewAfterEvents?: number;
}

export interface ReconcileLinkInput {
  tenantId: string;
  linkId: string;
  schedule: ReconcileSchedule;
  /** Set when the workflow continues as new. */
  carried?: { passes: number; requested: boolean; lastPass?: ReconcilePassSummary };
}

export interface ReconcileLinkStatus {
  phase: 'waiting' | 'reconciling' | 'stopped';
  passes: number;
  lastPass?: ReconcilePassSummary;
}

/** Run a pass now (an admin or the CRM asked; or the link is being disconnected and should notice). */
export const reconcileNowSignal = defineSignal('reconcileNow');
export const reconcileStatusQuery = defineQuery<ReconcileLinkStatus>('reconcileStatus');

export function reconcileWorkflowId(tenantId: string, linkId: string): string {
  return `reconcile:${tenantId}:${linkId}`;
}
