import { randomBytes } from 'node:crypto';
import { Notifier } from '../common/notifier';
import { GoogleError, invalid } from './errors';
import type { Calendar } from './store';

interface Channel {
  id: string;
  owner: string;
  calendarId: string;
  resourceId: string;
  address: string;
  token?: string;
  expiration: number;
  messageNumber: number;
}

const DEFAULT_TTL_SECONDS = 7 * 86400;

/**
 * `events.watch` channels. Google's notifications carry no body, only headers saying "this
 * calendar's events changed": the subscriber follows with an incremental list.
 */
export class GoogleChannels {
  readonly notifier = new Notifier();
  private channels = new Map<string, Channel>();
  /** Google caps a channel's lifetime (a week for events); a later requested expiration is cut. */
  maxTtlSeconds = DEFAULT_TTL_SECONDS;

  watch(owner: string, cal: Calendar, body: Record<string, unknown>): object {
    if (body.type !== 'web_hook' && body.type !== 'webhook') throw invalid('Invalid value for: type', 'type');
    if (typeof body.id !== 'string' || body.id === '' || body.id.length > 64 || !/^[A-Za-z0-9\-_+/=]+$/.test(body.id))
      throw invalid('Invalid channel id.', 'id');
    if (typeof body.address !== 'string' || !/^https?:\/\//.test(body.address))
      throw invalid('Invalid address.', 'address');
    if (this.channels.has(body.id))
      throw new GoogleError(400, 'channelIdNotUnique', `Channel id ${body.id} not unique`);
    const cap = Date.now() + this.maxTtlSeconds * 1000;
    const requested = body.expiration === undefined ? cap : Number(body.expiration);
    const channel: Channel = {
      id: body.id,
      owner,
      calendarId: cal.id,
      resourceId: randomBytes(14).toString('base64url'),
      address: body.address,
      ...(typeof body.token === 'string' ? { token: body.token } : {}),
      expiration: Number.isFinite(requested) ? Math.min(requested, cap) : cap,
      messageNumber: 0,
    };
    this.channels.set(channel.id, channel);
    void this.send(channel, 'sync');
    return {
      kind: 'api#channel',
      id: channel.id,
      resourceId: channel.resourceId,
      resourceUri: `https://www.googleapis.com/calendar/v3/calendars/${encodeURIComponent(cal.id)}/events?alt=json`,
      ...(channel.token !== undefined ? { token: channel.token } : {}),
      expiration: String(channel.expiration),
    };
  }

  /** `channels.stop`: the channel id and resourceId must both match. */
  stop(owner: string, body: Record<string, unknown>): void {
    const channel = typeof body.id === 'string' ? this.channels.get(body.id) : undefined;
    if (!channel || channel.owner !== owner || channel.resourceId !== body.resourceId) {
      throw new GoogleError(404, 'notFound', `Channel '${String(body.id)}' not found for project`);
    }
    this.channels.delete(channel.id);
  }

  changed(cal: Calendar): void {
    for (const channel of this.channels.values()) {
      if (channel.calendarId !== cal.id) continue;
      if (channel.expiration <= Date.now()) this.channels.delete(channel.id);
      else void this.send(channel, 'exists');
    }
  }

  live(calendarId?: string): Array<{ id: string; calendarId: string; expiration: number }> {
    return [...this.channels.values()]
      .filter((c) => c.expiration > Date.now() && (calendarId === undefined || c.calendarId === calendarId))
      .map((c) => ({ id: c.id, calendarId: c.calendarId, expiration: c.expiration }));
  }

  reset(): void {
    this.channels.clear();
    this.maxTtlSeconds = DEFAULT_TTL_SECONDS;
    this.notifier.reset();
  }

  private send(channel: Channel, state: 'sync' | 'exists'): Promise<number | undefined> {
    channel.messageNumber += 1;
    return this.notifier.post(channel.address, {
      'X-Goog-Channel-ID': channel.id,
      ...(channel.token !== undefined ? { 'X-Goog-Channel-Token': channel.token } : {}),
      'X-Goog-Channel-Expiration': new Date(channel.expiration).toUTCString(),
      'X-Goog-Resource-ID': channel.resourceId,
      'X-Goog-Resource-URI': `https://www.googleapis.com/calendar/v3/calendars/${encodeURIComponent(channel.calendarId)}/events?alt=json`,
      'X-Goog-Resource-State': state,
      'X-Goog-Message-Number': String(channel.messageNumber),
    });
  }
}
