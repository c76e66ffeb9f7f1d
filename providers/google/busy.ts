import type { calendar_v3 } from 'googleapis';
import { googleCalendarClient } from './googleClient';
import { DateTime } from 'luxon';
import { CALSYNC_TAG } from '../../content/eventContent';
import { classifyGoogleError } from './googleCalendar';
import {
  CursorExpired,
  type BusyReader,
  type ImportPass,
  type ImportedEvent,
  type PushChannel,
  type ShowAs,
} from '../busyTypes';

export interface GoogleBusyOptions {
  rootUrl: string;
  accessToken: string;
  timeoutMs?: number;
  /** Waits for the account's next request slot: Google's per-user quota counts reads too. */
  pace?: () => Promise<void>;
}

/** Whether a Google event blocks time: transparency, declined invitations, working-location and out-of-office events. */
export function googleShowAs(e: calendar_v3.Schema$Event): ShowAs {
  if (e.transparency === 'transparent' || e.eventType === 'workingLocation') return 'free';
  if (e.attendees?.some((a) => a.self && a.responseStatus === 'declined')) return 'free';
  if (e.eventType === 'outOfOffice') return 'oof';
  if (e.status === 'tentative' || e.attendees?.some((a) => a.self && a.responseStatus === 'tentative'))
    return 'tentative';
  return 'busy';
}

/** An all-day event's dates are midnights in the calendar's zone; timed events carry their offset. */
function instant(t: calendar_v3.Schema$EventDateTime | undefined, calendarZone: string): Date | undefined {
  if (t?.dateTime) return new Date(t.dateTime);
  if (t?.date) return DateTime.fromISO(t.date, { zone: t.timeZone ?? calendarZone }).toJSDate();
  return undefined;
}

/**
 * Busy time from a Google calendar: `events.list` with `singleEvents` (a series as its instances)
 * and incremental sync. A syncToken cannot be combined with timeMin/timeMax, so the full list is
 * unbounded and the caller keeps only its window; a 410 means the token is dead: list in full again.
 */
export class GoogleBusyReader implements BusyReader {
  private readonly api: calendar_v3.Calendar;

  constructor(private readonly opts: GoogleBusyOptions) {
    this.api = googleCalendarClient(opts);
  }

  /** One remote read, after the account's request budget allows it. */
  private async call<T>(send: () => Promise<T>): Promise<T> {
    await this.opts.pace?.();
    return send();
  }

  /** The window is not sent (a syncToken cannot be combined with timeMin/timeMax): the caller cuts to it. */
  async read(calendarId: string, cursor: string | undefined, window?: { start: Date; end: Date }): Promise<ImportPass> {
    const pass: ImportPass = { full: cursor === undefined, upserts: [], removed: [], removedSeries: [], cursor: '' };
    let pageToken: string | undefined;
    for (;;) {
      let page: calendar_v3.Schema$Events;
      try {
        page = (
          await this.call(() =>
            this.api.events.list({
              calendarId,
              singleEvents: true,
              maxResults: 2500,
              pageToken,
              ...(cursor ? { syncToken: cursor } : { showDeleted: false }),
            }),
          )
        ).data;
      } catch (err) {
        const classified = classifyGoogleError(err);
        if (classified.status === 410) throw new CursorExpired(classified.message);
        throw classified;
      }
      const zone = page.timeZone ?? 'UTC';
      for (const e of page.items ?? []) {
        if (!e.id) continue;
        // Cancelled, or calsync's own event (its private tag): never counted as imported busy time.
        if (e.status === 'cancelled' || e.extendedProperties?.private?.[CALSYNC_TAG]) {
          pass.removed.push(e.id);
          if (!e.recurringEventId && e.status === 'cancelled') pass.removedSeries.push(e.id);
          continue;
        }
        const event = this.toImported(e, zone);
        if (event) pass.upserts.push(event);
      }
      if (page.nextPageToken) {
        pageToken = page.nextPageToken;
        continue;
      }
      pass.cursor = page.nextSyncToken ?? '';
      if (!pass.full) await this.completeSeries(calendarId, pass, window);
      return pass;
    }
  }

  /**
   * An incremental list shows the instances that changed, not the ones a moved series left behind:
   * every series it touches is read whole (`events.instances` within the window) and replaces what
   * is stored of it.
   */
  private async completeSeries(
    calendarId: string,
    pass: ImportPass,
    window: { start: Date; end: Date } | undefined,
  ): Promise<void> {
    const touched = [...new Set(pass.upserts.map((e) => e.seriesId).filter((id): id is string => Boolean(id)))];
    for (const seriesId of touched) {
      const instances: ImportedEvent[] = [];
      let pageToken: string | undefined;
      do {
        let page: calendar_v3.Schema$Events;
        try {
          page = (
            await this.call(() =>
              this.api.events.instances({
                calendarId,
                eventId: seriesId,
                maxResults: 2500,
                pageToken,
                ...(window ? { timeMin: window.start.toISOString(), timeMax: window.end.toISOString() } : {}),
              }),
            )
          ).data;
        } catch (err) {
          const classified = classifyGoogleError(err);
          // The series is gone since the list: its instances come as cancelled in the next pass.
          if (classified.status === 404 || classified.status === 410) break;
          throw classified;
        }
        for (const e of page.items ?? []) {
          const event = e.status === 'cancelled' ? undefined : this.toImported(e, page.timeZone ?? 'UTC');
          if (event) instances.push(event);
        }
        pageToken = page.nextPageToken ?? undefined;
      } while (pageToken);
      pass.upserts = [...pass.upserts.filter((e) => e.seriesId !== seriesId), ...instances];
      pass.removedSeries.push(seriesId);
    }
  }

  private toImported(e: calendar_v3.Schema$Event, zone: string): ImportedEvent | undefined {
    const start = instant(e.start, zone);
    const end = instant(e.end, zone);
    if (!e.id || !start || !end) return undefined;
    const event: ImportedEvent = {
      remoteId: e.id,
      start,
      end,
      allDay: Boolean(e.start?.date),
      showAs: googleShowAs(e),
    };
    if (e.recurringEventId) event.seriesId = e.recurringEventId;
    if (e.summary) event.title = e.summary;
    return event;
  }

  async watch(
    calendarId: string,
    input: { channelId: string; address: string; secret: string; expiresAt: Date },
  ): Promise<PushChannel> {
    try {
      const { data } = await this.call(() =>
        this.api.events.watch({
          calendarId,
          requestBody: {
            id: input.channelId,
            type: 'web_hook',
            address: input.address,
            token: input.secret,
            expiration: String(input.expiresAt.getTime()),
          },
        }),
      );
      return {
        id: data.id!,
        resourceId: data.resourceId ?? undefined,
        expiresAt: new Date(Number(data.expiration ?? input.expiresAt.getTime())),
      };
    } catch (err) {
      throw classifyGoogleError(err);
    }
  }

  /** Google channels cannot be extended: a new one replaces an expiring one. */
  async renew(): Promise<false> {
    return false;
  }

  async stop(channel: { id: string; resourceId?: string }): Promise<void> {
    try {
      await this.call(() =>
        this.api.channels.stop({ requestBody: { id: channel.id, resourceId: channel.resourceId } }),
      );
    } catch (err) {
      const classified = classifyGoogleError(err);
      if (classified.status !== 404) throw classified;
    }
  }
}
