import { proxyActivities } from '@temporalio/workflow';
import type { CalsyncActivities } from '../../activities';
import type { SharingOutcome } from '../../activities/teamCalendarSharing';

/** Shares a team calendar with its members at the provider (read or write), with Temporal's retries. */
export async function teamCalendarSharing(input: { tenantId: string; calendarId: string }): Promise<SharingOutcome> {
  const acts = proxyActivities<CalsyncActivities>({
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes', maximumAttempts: 20 },
  });
  return acts.shareTeamCalendar(input);
}
