import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { CalsyncState, CalsyncTenant } from '../../lib/searchAttributes';
import { replayProgressQuery, replayWorkflowId, type ReplayFailuresInput, type ReplayProgress } from './contract';
import type { replayFailures } from './workflow';

/** Starts a batch replay of the tenant's failed syncs; answers its workflow id. */
export async function startReplay(
  client: Client,
  taskQueue: string,
  replayId: string,
  input: ReplayFailuresInput,
): Promise<string> {
  const workflowId = replayWorkflowId(input.tenantId, replayId);
  await client.workflow.start<typeof replayFailures>('replayFailures', {
    workflowId,
    taskQueue,
    args: [input],
    staticSummary: `replay of failed syncs of tenant ${input.tenantId}`,
    typedSearchAttributes: [
      { key: CalsyncTenant, value: input.tenantId },
      { key: CalsyncState, value: 'pending' },
    ],
  });
  return workflowId;
}

/** A replay's progress (its result once finished); undefined when there is no such replay. */
export async function replayProgress(
  client: Client,
  tenantId: string,
  replayId: string,
): Promise<ReplayProgress | undefined> {
  const handle = client.workflow.getHandle(replayWorkflowId(tenantId, replayId));
  try {
    const description = await handle.describe();
    return description.status.name === 'COMPLETED' ? await handle.result() : await handle.query(replayProgressQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}
