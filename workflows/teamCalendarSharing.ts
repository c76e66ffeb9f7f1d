import { proxyActivities } from '@temporalio/workflow';
import type { CalsyncActivities } from '../activities';
import type { SharingOutcome } from '../activities/teamCalendarSharing';

/** One per team calendar: a newer save replaces a run still going (it reads the members afresh). */
export function calendarSharingWorkflowId(tenantId: string, calendarId: string): string {
  return `calendar-share:${tenantId}:${calendarId}`;
}

/** Shares a team calendar with its members at the provider (read or write), with Temporal's retries. */
export async function teamCalendarSharing(input: { tenantId: string; calendarId: string }): Promise<SharingOutcome> {
  const acts = proxyActivities<CalsyncActivities>({
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes', maximumAttempts: 20 },
  });
  return acts.shareTeamCalendar(input);
}
