import type { PushNotice, PushNotifications, PushRequest } from '../types';

// A notification batch is small in practice; more than this is not from Graph.
const MAX_NOTICES = 1000;

/** The query marker of the lifecycle URL: the same webhook route, so the same handshake answers it. */
export const LIFECYCLE_MARKER = 'lifecycle';

/** Where Graph sends a subscription's lifecycle notifications: calsync's webhook with the marker. */
export function lifecycleUrlOf(address: string): string {
  const url = new URL(address);
  url.searchParams.set(LIFECYCLE_MARKER, '1');
  return url.href;
}

/**
 * What a lifecycle event asks of calsync
 * (https://learn.microsoft.com/graph/change-notifications-lifecycle-events):
 * `reauthorizationRequired` — renew the subscription or it stops delivering; `subscriptionRemoved` —
 * make a new one, and changes may have been missed meanwhile; `missed` — notifications were lost,
 * resync. Anything else is not acted on.
 */
function lifecycleNotice(event: unknown): Omit<PushNotice, 'channelId' | 'secret'> | undefined {
  switch (event) {
    case 'reauthorizationRequired':
      return { changed: false, renewChannel: true };
    case 'subscriptionRemoved':
      return { changed: true, channelRemoved: true, fullPassNeeded: true };
    case 'missed':
      return { changed: true, fullPassNeeded: true };
    default:
      return undefined;
  }
}

/**
 * Graph change notifications (https://learn.microsoft.com/graph/change-notifications-delivery-webhooks):
 * a new subscription's URLs (change and lifecycle) are first validated with `?validationToken=…`,
 * which must be echoed as text/plain within 10 seconds; notifications come as `{ value: [...] }`,
 * each with its `subscriptionId` and the `clientState` calsync set. Lifecycle notifications carry
 * the same `clientState` and a `lifecycleEvent`; they are read only on the lifecycle URL (marked
 * `?lifecycle=1`). Graph expects 202 Accepted.
 */
export function microsoftPush(channelLifetimeMs: number): PushNotifications {
  return {
    channelLifetimeMs,
    parse(request): PushRequest {
      const token = request.query.validationToken;
      if (typeof token === 'string') return { kind: 'handshake', status: 200, contentType: 'text/plain', body: token };
      const lifecycleUrl = request.query[LIFECYCLE_MARKER] === '1';
      const value = (request.body as { value?: unknown } | undefined)?.value;
      const items: Array<Record<string, unknown>> = Array.isArray(value) ? value.slice(0, MAX_NOTICES) : [];
      const notices: PushNotice[] = [];
      for (const n of items) {
        if (typeof n?.subscriptionId !== 'string') continue;
        // Each kind only on its own URL: a lifecycle event posted to the change URL is not Graph's.
        const meaning = lifecycleUrl
          ? lifecycleNotice(n.lifecycleEvent)
          : n.lifecycleEvent === undefined
            ? { changed: true }
            : undefined;
        if (!meaning) continue;
        notices.push({
          channelId: n.subscriptionId,
          secret: typeof n.clientState === 'string' ? n.clientState : undefined,
          ...meaning,
        });
      }
      return { kind: 'notices', notices, ackStatus: 202 };
    },
  };
}
