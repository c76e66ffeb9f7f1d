import { defineQuery } from '@temporalio/workflow';
import type { ResyncScope } from '../../activities/settingsResync';

export interface SettingsResyncInput extends ResyncScope {
  /** Appointments handed to their workflows per second: each is about one write per calendar. */
  ratePerSecond: number;
  carried?: SettingsResyncProgress & { after: string | null };
}

export interface SettingsResyncProgress {
  state: 'running' | 'completed';
  total: number;
  resynced: number;
}

export const settingsResyncProgressQuery = defineQuery<SettingsResyncProgress>('settingsResyncProgress');

/** One per tenant: a newer settings change replaces a re-sync still running (it covers the same ground). */
export function settingsResyncWorkflowId(tenantId: string): string {
  return `settings-resync:${tenantId}`;
}

/** One per team calendar: its appointments move when the calendar's backing account or calendar changes. */
export function calendarResyncWorkflowId(tenantId: string, calendarId: string): string {
  return `calendar-resync:${tenantId}:${calendarId}`;
}
