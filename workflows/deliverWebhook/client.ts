import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { CalsyncTenant } from '../../lib/searchAttributes';
import { webhookWorkflowId, type WebhookDelivery, type WebhookEvent } from './contract';
import type { deliverWebhook } from './workflow';

/** Starts a durable delivery (its own workflow, retried for hours) from outside a workflow. */
export async function startWebhookDelivery(
  client: Client,
  taskQueue: string,
  tenantId: string,
  event: WebhookEvent,
): Promise<void> {
  const delivery: WebhookDelivery = { tenantId, deliveryId: randomUUID(), createdAt: new Date().toISOString(), event };
  await client.workflow.start<typeof deliverWebhook>('deliverWebhook', {
    workflowId: webhookWorkflowId(tenantId, delivery.deliveryId),
    taskQueue,
    args: [delivery],
    typedSearchAttributes: [{ key: CalsyncTenant, value: tenantId }],
  });
}
