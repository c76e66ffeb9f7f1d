import { proxyActivities } from '@temporalio/workflow';
import type { CalsyncActivities } from '../../activities';
import type { WebhookDelivery } from './contract';

/** One webhook event, retried durably: a CRM that is down for hours still gets it afterwards. */
export async function deliverWebhook(delivery: WebhookDelivery): Promise<string> {
  const { deliverWebhook: deliver } = proxyActivities<CalsyncActivities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 40 },
  });
  return deliver(delivery);
}
