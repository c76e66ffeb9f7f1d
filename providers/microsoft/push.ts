import type { PushNotice, PushNotifications, PushRequest } from '../types';

// A notification batch is small in practice; more than this is not from Graph.
const MAX_NOTICES = 1000;

/**
 * Graph change notifications (https://learn.microsoft.com/graph/change-notifications-delivery-webhooks):
 * a new subscription's URL is first validated with `?validationToken=…`, which must be echoed as
 * text/plain within 10 seconds; notifications come as `{ value: [...] }`, each with its
 * `subscriptionId` and the `clientState` calsync set; lifecycle notices (`subscriptionRemoved`) say a
 * subscription is gone. Graph expects 202 Accepted.
 */
export function microsoftPush(channelLifetimeMs: number): PushNotifications {
  return {
    channelLifetimeMs,
    parse(request): PushRequest {
      const token = request.query.validationToken;
      if (typeof token === 'string') return { kind: 'handshake', status: 200, contentType: 'text/plain', body: token };
      const value = (request.body as { value?: unknown } | undefined)?.value;
      const items: Array<Record<string, unknown>> = Array.isArray(value) ? value.slice(0, MAX_NOTICES) : [];
      const notices: PushNotice[] = [];
      for (const n of items) {
        if (typeof n?.subscriptionId !== 'string') continue;
        notices.push({
          channelId: n.subscriptionId,
          secret: typeof n.clientState === 'string' ? n.clientState : undefined,
          changed: true,
          channelRemoved: n.lifecycleEvent === 'subscriptionRemoved',
        });
      }
      return { kind: 'notices', notices, ackStatus: 202 };
    },
  };
}
