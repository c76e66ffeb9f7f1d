import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ReconcilePolicy } from '../../lib/config';
import { CalsyncEntityId, CalsyncTenant } from '../../lib/searchAttributes';
import { reconcileNowSignal, reconcileWorkflowId, type ReconcileLinkInput } from './contract';
import type { reconcileLink } from './workflow';

export interface ReconcileRef {
  tenantId: string;
  linkId: string;
}

function startOptions(taskQueue: string, policy: ReconcilePolicy, link: ReconcileRef) {
  const input: ReconcileLinkInput = {
    tenantId: link.tenantId,
    linkId: link.linkId,
    schedule: {
      intervalMs: policy.intervalMs,
      pageSize: policy.pageSize,
      pagePauseMs: policy.pagePauseMs,
      continueAsNewAfterEvents: policy.continueAsNewAfterEvents,
    },
  };
  return {
    workflowId: reconcileWorkflowId(link.tenantId, link.linkId),
    taskQueue,
    args: [input] as [ReconcileLinkInput],
    staticSummary: `reconciliation of calendar link ${link.linkId} (tenant ${link.tenantId})`,
    typedSearchAttributes: [
      { key: CalsyncTenant, value: link.tenantId },
      { key: CalsyncEntityId, value: link.linkId },
    ],
  };
}

/** A new link's periodic reconciliation (its first pass one interval from now: the backfill writes first). */
export async function startReconcileWorkflow(
  client: Client,
  taskQueue: string,
  policy: ReconcilePolicy,
  link: ReconcileRef,
): Promise<void> {
  try {
    await client.workflow.start<typeof reconcileLink>('reconcileLink', startOptions(taskQueue, policy, link));
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** A pass now: the link's reconciliation workflow, started if it is not running (links older than it). */
export async function requestReconcile(
  client: Client,
  taskQueue: string,
  policy: ReconcilePolicy,
  link: ReconcileRef,
): Promise<string> {
  const options = startOptions(taskQueue, policy, link);
  await client.workflow.signalWithStart<typeof reconcileLink, []>('reconcileLink', {
    ...options,
    signal: reconcileNowSignal,
    signalArgs: [],
  });
  return options.workflowId;
}

/** Wakes a running reconciliation so it notices at once that its link is going away (it then ends). */
export async function nudgeReconcile(client: Client, link: ReconcileRef): Promise<void> {
  try {
    await client.workflow.getHandle(reconcileWorkflowId(link.tenantId, link.linkId)).signal(reconcileNowSignal);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}
