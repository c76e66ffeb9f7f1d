import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ImportRoundResult } from '../../activities/busyImport';

export interface BusyImportInput {
  tenantId: string;
  linkId: string;
}

export interface BusyImportProgress {
  status: 'starting' | ImportRoundResult['status'] | 'retrying';
  rounds: number;
  pushes: number;
  last?: ImportRoundResult['calendars'];
}

/** A push notification arrived (or someone asks): sync the link's calendars now. */
export const syncNowSignal = defineSignal('syncNow');
/** The link is being disconnected: erase what was imported and stop. */
export const stopImportSignal = defineSignal('stopImport');
export const importProgressQuery = defineQuery<BusyImportProgress>('importProgress');

export function importWorkflowId(tenantId: string, linkId: string): string {
  return `import:${tenantId}:${linkId}`;
}
