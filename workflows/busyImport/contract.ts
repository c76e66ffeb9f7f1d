import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ImportRoundResult } from '../../activities/busyImport';

export interface BusyImportInput {
  tenantId: string;
  linkId: string;
  /** Calendars whose next pass must be a full one, asked for before the run continued as new. */
  fullPass?: string[];
}

export interface BusyImportProgress {
  status: 'starting' | ImportRoundResult['status'] | 'retrying';
  rounds: number;
  pushes: number;
  last?: ImportRoundResult['calendars'];
}

/**
 * What a push asks beyond a pass: check the push channels now (one must be renewed or made again);
 * make the next pass of these calendars a full one (the provider says changes may have been lost).
 */
export interface SyncNowRequest {
  checkPush?: boolean;
  fullPass?: string[];
}

/** A push notification arrived (or someone asks): sync the link's calendars now. */
export const syncNowSignal = defineSignal<[SyncNowRequest?]>('syncNow');
/** The link is being disconnected: erase what was imported and stop. */
export const stopImportSignal = defineSignal('stopImport');
export const importProgressQuery = defineQuery<BusyImportProgress>('importProgress');

export function importWorkflowId(tenantId: string, linkId: string): string {
  return `import:${tenantId}:${linkId}`;
}
