import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { calendarSharingWorkflowId } from './contract';
import type { teamCalendarSharing } from './workflow';

/** Makes a team calendar's remote sharing match its members; a newer save replaces a run still going. */
export async function startCalendarSharing(
  client: Client,
  taskQueue: string,
  tenantId: string,
  calendarId: string,
): Promise<void> {
  await client.workflow.start<typeof teamCalendarSharing>('teamCalendarSharing', {
    workflowId: calendarSharingWorkflowId(tenantId, calendarId),
    taskQueue,
    args: [{ tenantId, calendarId }],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
    staticSummary: `team calendar ${calendarId} of tenant ${tenantId} shared with its members`,
  });
}
