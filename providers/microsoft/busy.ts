import type { Client } from '@microsoft/microsoft-graph-client';
import { DateTime, IANAZone } from 'luxon';
import { ProviderError } from '../errors';
import { classifyGraphError, graphClient } from './graphCalendar';
import { CALSYNC_PROPERTY_SET, graphAllDayDate, MICROSOFT_DEFAULT_CALENDAR } from './eventMapping';
import {
  CursorExpired,
  type BusyReader,
  type ImportPass,
  type ImportedEvent,
  type PushChannel,
  type ShowAs,
} from '../busyTypes';

export interface MicrosoftBusyOptions {
  baseUrl: string;
  accessToken: string;
  timeoutMs?: number;
  /** Waits for the mailbox's next request slot: Outlook's limits count reads too. */
  pace?: () => Promise<void>;
}

interface GraphEvent {
  id: string;
  '@removed'?: { reason: string };
  type?: string;
  seriesMasterId?: string | null;
  isAllDay?: boolean;
  isCancelled?: boolean;
  showAs?: string;
  subject?: string;
  originalStartTimeZone?: string;
  responseStatus?: { response?: string };
  start?: { dateTime: string; timeZone: string };
  end?: { dateTime: string; timeZone: string };
  singleValueExtendedProperties?: Array<{ id: string; value: string }>;
}

const PAGE_PREFER = 'odata.maxpagesize=200, outlook.timezone="UTC"';

export function graphShowAs(e: GraphEvent): ShowAs {
  if (e.responseStatus?.response === 'declined') return 'free';
  switch (e.showAs) {
    case 'free':
    case 'workingElsewhere':
      return 'free';
    case 'tentative':
      return 'tentative';
    case 'oof':
      return 'oof';
    default:
      return 'busy';
  }
}

/**
 * Times come in UTC (Prefer). An all-day event's midnight is in its own zone: Graph shows it either
 * as that zone's midnight in UTC or as a floating midnight; both readings give the same dates.
 */
function interval(e: GraphEvent): { start: Date; end: Date } {
  const utc = (t: { dateTime: string }) => DateTime.fromISO(t.dateTime.slice(0, 19), { zone: 'UTC' });
  const start = utc(e.start!);
  const end = utc(e.end!);
  if (!e.isAllDay) return { start: start.toJSDate(), end: end.toJSDate() };
  const zone =
    e.originalStartTimeZone && IANAZone.isValidZone(e.originalStartTimeZone) ? e.originalStartTimeZone : 'UTC';
  const midnight = (t: { dateTime: string }) =>
    DateTime.fromISO(graphAllDayDate({ dateTime: t.dateTime, timeZone: 'UTC' }, zone), { zone }).toJSDate();
  return { start: midnight(e.start!), end: midnight(e.end!) };
}

/**
 * Busy time from a Microsoft 365 calendar: Graph v1.0 offers incremental sync only as
 * `calendarView/delta` with a fixed window, so a pass is full over the window and later passes
 * follow the delta link; an expired delta link means a full pass again.
 */
export class MicrosoftBusyReader implements BusyReader {
  private readonly client: Client;

  constructor(opts: MicrosoftBusyOptions) {
    this.client = graphClient(opts);
  }

  private async get(pathOrUrl: string, query?: Record<string, string>): Promise<Record<string, unknown>> {
    try {
      let request = this.client.api(pathOrUrl).header('Prefer', PAGE_PREFER);
      if (query) request = request.query(query);
      return await request.get();
    } catch (err) {
      const classified = classifyGraphError(err);
      if (classified.status === 410 || /syncstate|resyncrequired/i.test(classified.code))
        throw new CursorExpired(classified.message);
      throw classified;
    }
  }

  async read(calendarId: string, cursor: string | undefined, window: { start: Date; end: Date }): Promise<ImportPass> {
    const path =
      calendarId === MICROSOFT_DEFAULT_CALENDAR
        ? '/me/calendarView/delta'
        : `/me/calendars/${encodeURIComponent(calendarId)}/calendarView/delta`;
    const pass: ImportPass = { full: cursor === undefined, upserts: [], removed: [], removedSeries: [], cursor: '' };
    let page = cursor
      ? await this.get(cursor)
      : await this.get(path, { startDateTime: window.start.toISOString(), endDateTime: window.end.toISOString() });
    for (;;) {
      for (const e of (page.value as GraphEvent[] | undefined) ?? []) this.take(e, pass);
      if (typeof page['@odata.nextLink'] === 'string') {
        page = await this.get(page['@odata.nextLink']);
        continue;
      }
      if (typeof page['@odata.deltaLink'] !== 'string')
        throw new ProviderError('retryable', 'delta_incomplete', 'delta answer without nextLink or deltaLink');
      pass.cursor = page['@odata.deltaLink'];
      return pass;
    }
  }

  private take(e: GraphEvent, pass: ImportPass): void {
    const own = e.singleValueExtendedProperties?.some((p) => p.id.toLowerCase().includes(CALSYNC_PROPERTY_SET));
    if (e['@removed'] || e.isCancelled || own) {
      pass.removed.push(e.id);
      pass.removedSeries.push(e.id);
      return;
    }
    // A series master stands for its occurrences, which come one by one.
    if (e.type === 'seriesMaster' || !e.start || !e.end) return;
    const event: ImportedEvent = {
      remoteId: e.id,
      ...interval(e),
      allDay: Boolean(e.isAllDay),
      showAs: graphShowAs(e),
    };
    if (e.seriesMasterId) event.seriesId = e.seriesMasterId;
    if (e.subject) event.title = e.subject;
    pass.upserts.push(event);
  }

  async watch(
    calendarId: string,
    input: { channelId: string; address: string; secret: string; expiresAt: Date },
  ): Promise<PushChannel> {
    const resource =
      calendarId === MICROSOFT_DEFAULT_CALENDAR
        ? 'me/calendar/events'
        : `me/calendars/${encodeURIComponent(calendarId)}/events`;
    try {
      const created = await this.client.api('/subscriptions').post({
        changeType: 'created,updated,deleted',
        notificationUrl: input.address,
        resource,
        expirationDateTime: input.expiresAt.toISOString(),
        clientState: input.secret,
      });
      return { id: created.id, expiresAt: new Date(created.expirationDateTime) };
    } catch (err) {
      throw classifyGraphError(err);
    }
  }

  async renew(channel: { id: string }, expiresAt: Date): Promise<PushChannel | false> {
    try {
      const renewed = await this.client
        .api(`/subscriptions/${encodeURIComponent(channel.id)}`)
        .patch({ expirationDateTime: expiresAt.toISOString() });
      return { id: renewed.id, expiresAt: new Date(renewed.expirationDateTime) };
    } catch (err) {
      const classified = classifyGraphError(err);
      if (classified.status === 404) return false;
      throw classified;
    }
  }

  async stop(channel: { id: string }): Promise<void> {
    try {
      await this.client.api(`/subscriptions/${encodeURIComponent(channel.id)}`).delete();
    } catch (err) {
      const classified = classifyGraphError(err);
      if (classified.status !== 404) throw classified;
    }
  }
}
