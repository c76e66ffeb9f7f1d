import type { PushNotifications, PushRequest } from '../types';

/**
 * Google Calendar push (https://developers.google.com/calendar/api/guides/push): headers only.
 * `X-Goog-Resource-State: sync` is a channel's first message; `exists` / `not_exists` mean a change.
 * The channel's token comes back in `X-Goog-Channel-Token`. Google expects a 2xx.
 */
export function googlePush(channelLifetimeMs: number): PushNotifications {
  return {
    channelLifetimeMs,
    parse(request): PushRequest {
      const channelId = request.header('x-goog-channel-id');
      if (!channelId) return { kind: 'notices', notices: [], ackStatus: 204 };
      return {
        kind: 'notices',
        ackStatus: 204,
        notices: [
          {
            channelId,
            secret: request.header('x-goog-channel-token'),
            changed: request.header('x-goog-resource-state') !== 'sync',
          },
        ],
      };
    },
  };
}
