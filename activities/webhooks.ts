import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { WebhookDelivery } from '../workflows/deliverWebhook/contract';
import { OutboundRefused, postOutbound, type OutboundAnswer } from '../lib/outbound';
import type { ActivityDeps } from './deps';

/**
 * POSTs one signed event to the tenant's webhook. Retryable failures (network, 5xx, 408, 429)
 * throw so Temporal tries again; other 4xx mean the CRM refuses the event, so stop.
 */
export async function deliverWebhook(
  deps: ActivityDeps,
  delivery: WebhookDelivery,
): Promise<'delivered' | 'no_webhook'> {
  const tenant = await deps.db('tenants').where({ id: delivery.tenantId }).first('settings');
  const url: string | undefined = tenant?.settings?.webhookUrl;
  const sealed: string | undefined = tenant?.settings?.webhookSecretSealed;
  if (!url) return 'no_webhook';
  const body = JSON.stringify({
    id: delivery.deliveryId,
    type: delivery.event.type,
    createdAt: delivery.createdAt,
    tenantId: delivery.tenantId,
    data: delivery.event.data,
  });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'calsync-webhooks/1',
    'calsync-event': delivery.event.type,
    'calsync-delivery': delivery.deliveryId,
  };
  if (sealed) headers['calsync-signature'] = signWebhook(deps.secrets.open(sealed), body);

  let res: OutboundAnswer;
  try {
    res = await postOutbound(
      url,
      { headers, body, timeoutMs: 10_000 },
      { allowedHosts: deps.config.outboundAllowedHosts },
    );
  } catch (err) {
    if (err instanceof OutboundRefused) {
      deps.logger.warn({ tenantId: delivery.tenantId, reason: err.message }, 'webhook address refused');
      throw ApplicationFailure.nonRetryable(`webhook address refused: ${err.message}`, 'webhook_address_refused');
    }
    throw ApplicationFailure.retryable(`webhook unreachable: ${(err as Error).message}`, 'webhook_unreachable');
  }
  if (res.status >= 200 && res.status < 300) return 'delivered';
  if (res.status >= 300 && res.status < 400) {
    // A redirect would re-post the body and its signature elsewhere: never followed.
    throw ApplicationFailure.nonRetryable(
      `webhook answered a redirect (${res.status}); redirects are not followed`,
      'webhook_redirect_refused',
    );
  }
  const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
  deps.logger.warn(
    { tenantId: delivery.tenantId, deliveryId: delivery.deliveryId, status: res.status },
    'webhook delivery refused',
  );
  throw ApplicationFailure.create({
    message: `webhook answered ${res.status}`,
    type: `webhook_http_${res.status}`,
    nonRetryable: !retryable,
  });
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`: the receiver recomputes it and checks the age. */
export function signWebhook(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}
