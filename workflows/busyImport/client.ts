import type { Client } from '@temporalio/client';
import { importWorkflowId, syncNowSignal, type SyncNowRequest } from './contract';

/** Asks the link's import workflow for a pass now; a workflow that is not running has nothing to sync (false). */
export async function requestImportSync(
  client: Client,
  tenantId: string,
  linkId: string,
  request: SyncNowRequest = {},
): Promise<boolean> {
  try {
    await client.workflow.getHandle(importWorkflowId(tenantId, linkId)).signal(syncNowSignal, request);
    return true;
  } catch {
    return false;
  }
}
