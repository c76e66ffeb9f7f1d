import { WorkflowIdConflictPolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { CalsyncState, CalsyncTenant } from '../../lib/searchAttributes';
import {
  calendarResyncWorkflowId,
  settingsResyncProgressQuery,
  settingsResyncWorkflowId,
  type SettingsResyncInput,
  type SettingsResyncProgress,
} from './contract';
import type { settingsResync } from './workflow';

/** Whether the tenant's settings re-sync is running now. */
export async function settingsResyncRunning(client: Client, tenantId: string): Promise<boolean> {
  return client.workflow
    .getHandle(settingsResyncWorkflowId(tenantId))
    .describe()
    .then((d) => d.status.name === 'RUNNING')
    .catch(() => false);
}

/** Re-syncs the tenant's future appointments after a settings change; a newer change replaces a run still going. */
export async function startSettingsResync(
  client: Client,
  taskQueue: string,
  input: SettingsResyncInput,
): Promise<void> {
  await client.workflow.start<typeof settingsResync>('settingsResync', {
    workflowId: settingsResyncWorkflowId(input.tenantId),
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
    staticSummary: `settings re-sync of tenant ${input.tenantId}`,
    typedSearchAttributes: [
      { key: CalsyncTenant, value: input.tenantId },
      { key: CalsyncState, value: 'pending' },
    ],
  });
}

/** Re-plans a team calendar's future appointments (`why` names the change, for Temporal UI). */
export async function startCalendarResync(
  client: Client,
  taskQueue: string,
  input: SettingsResyncInput & { calendarId: string },
  why: string,
): Promise<void> {
  await client.workflow.start<typeof settingsResync>('settingsResync', {
    workflowId: calendarResyncWorkflowId(input.tenantId, input.calendarId),
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
    staticSummary: `appointments of team calendar ${input.calendarId} of tenant ${input.tenantId} ${why}`,
  });
}

/** The latest settings re-sync: when it started and how far it got; undefined when none has run. */
export async function settingsResyncProgress(
  client: Client,
  tenantId: string,
): Promise<(SettingsResyncProgress & { startedAt: Date }) | { state: 'stopped'; startedAt: Date } | undefined> {
  const handle = client.workflow.getHandle(settingsResyncWorkflowId(tenantId));
  try {
    const description = await handle.describe();
    const status = description.status.name;
    const progress =
      status === 'COMPLETED'
        ? await handle.result()
        : status === 'RUNNING'
          ? await handle.query(settingsResyncProgressQuery)
          : { state: 'stopped' as const };
    return { startedAt: description.startTime, ...progress };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}
