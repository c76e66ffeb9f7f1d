import type { Client } from '@microsoft/microsoft-graph-client';
import { DateTime } from 'luxon';
import { ianaZoneOf } from './zones';
import { ProviderError } from '../errors';
import { classifyGraphError, graphClient } from './graphCalendar';
import { lifecycleUrlOf } from './push';
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
 * A string is the reason the interval cannot be known.
 */
function interval(e: GraphEvent, allDay: boolean, timeZone: string | undefined): { start: Date; end: Date } | string {
  const utc = (t: { dateTime: string }) => DateTime.fromISO(t.dateTime.slice(0, 19), { zone: 'UTC' });
  if (!allDay) return { start: utc(e.start!).toJSDate(), end: utc(e.end!).toJSDate() };
  const zone = ianaZoneOf(timeZone);
  if (!zone) return `unknown time zone ${JSON.stringify(timeZone ?? null)} on an all-day event`;
  const midnight = (t: { dateTime: string }) =>
    DateTime.fromISO(graphAllDayDate({ dateTime: t.dateTime, timeZone: 'UTC' }, zone), { zone }).toJSDate();
  return { start: midnight(e.start!), end: midnight(e.end!) };
}

/** What an occurrence takes from its series master: Graph sends occurrences with times only. */
const MASTER_SELECT = 'type,showAs,isAllDay,isCancelled,responseStatus,subject,originalStartTimeZone';
/** An occurrence as listed from its series: its times (the rest is the master's). */
const INSTANCE_SELECT = 'id,type,seriesMasterId,start,end,isCancelled,showAs,isAllDay,responseStatus';

/**
 * Busy time from a Microsoft 365 calendar: Graph v1.0 offers incremental sync only as
 * `calendarView/delta` with a fixed window, so a pass is full over the window and later passes
 * follow the delta link; an expired delta link means a full pass again.
 *
 * Occurrences of a series come sparse (id, type, seriesMasterId, start, end): free/busy, all-day,
 * the owner's response and the zone are read from the series master, fetched once per master and
 * pass. An occurrence deleted from a series is not reported on its own (the series changes), so an
 * incremental pass lists each changed series' occurrences in the window again and replaces the
 * stored ones: every deleted occurrence goes, one by one.
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

  /** Every page of a collection. */
  private async all(path: string, query: Record<string, string>): Promise<GraphEvent[]> {
    const items: GraphEvent[] = [];
    let page = await this.get(path, query);
    for (;;) {
      items.push(...((page.value as GraphEvent[] | undefined) ?? []));
      if (typeof page['@odata.nextLink'] !== 'string') return items;
      page = await this.get(page['@odata.nextLink']);
    }
  }

  async read(calendarId: string, cursor: string | undefined, window: { start: Date; end: Date }): Promise<ImportPass> {
    const path =
      calendarId === MICROSOFT_DEFAULT_CALENDAR
        ? '/me/calendarView/delta'
        : `/me/calendars/${encodeURIComponent(calendarId)}/calendarView/delta`;
    const pass: ImportPass = { full: cursor === undefined, upserts: [], removed: [], removedSeries: [], cursor: '' };
    const masters = new Map<string, GraphEvent | null>();
    const fromSeries: GraphEvent[] = [];
    let page = cursor
      ? await this.get(cursor)
      : await this.get(path, { startDateTime: window.start.toISOString(), endDateTime: window.end.toISOString() });
    for (;;) {
      for (const e of (page.value as GraphEvent[] | undefined) ?? []) {
        if (e.type === 'seriesMaster' && !e['@removed']) masters.set(e.id, e);
        else if (e.seriesMasterId && !e['@removed']) fromSeries.push(e);
        else this.take(e, undefined, pass);
      }
      if (typeof page['@odata.nextLink'] === 'string') {
        page = await this.get(page['@odata.nextLink']);
        continue;
      }
      if (typeof page['@odata.deltaLink'] !== 'string')
        throw new ProviderError('retryable', 'delta_incomplete', 'delta answer without nextLink or deltaLink');
      pass.cursor = page['@odata.deltaLink'];
      break;
    }
    const seriesIds = [...new Set(fromSeries.map((e) => e.seriesMasterId!))];
    for (const id of seriesIds) if (!masters.has(id)) masters.set(id, await this.master(id));
    let occurrences = fromSeries;
    if (!pass.full && seriesIds.length > 0) {
      // The series changed: its occurrences in the window now, in place of the stored ones.
      occurrences = [];
      for (const id of seriesIds) {
        pass.removedSeries.push(id);
        if (!masters.get(id)) continue;
        occurrences.push(
          ...(await this.all(`/me/events/${encodeURIComponent(id)}/instances`, {
            startDateTime: window.start.toISOString(),
            endDateTime: window.end.toISOString(),
            $select: INSTANCE_SELECT,
          })),
        );
      }
    }
    for (const e of occurrences) {
      const master = masters.get(e.seriesMasterId!);
      if (master === null) pass.removed.push(e.id);
      else this.take(e, master, pass);
    }
    return pass;
  }

  /** A series master's properties; null when it is gone. */
  private async master(id: string): Promise<GraphEvent | null> {
    try {
      // calsync's own series are told apart by their id later (imported_busy against the projection).
      return (await this.get(`/me/events/${encodeURIComponent(id)}`, {
        $select: MASTER_SELECT,
      })) as unknown as GraphEvent;
    } catch (err) {
      if (err instanceof ProviderError && err.status === 404) return null;
      throw err;
    }
  }

  /** One event or occurrence; an occurrence's missing properties are its master's. */
  private take(e: GraphEvent, master: GraphEvent | undefined, pass: ImportPass): void {
    const own = e.singleValueExtendedProperties?.some((p) => p.id.toLowerCase().includes(CALSYNC_PROPERTY_SET));
    if (e['@removed'] || e.isCancelled || master?.isCancelled || own) {
      pass.removed.push(e.id);
      if (!e.seriesMasterId) pass.removedSeries.push(e.id);
      return;
    }
    // A series master stands for its occurrences, which come one by one.
    if (e.type === 'seriesMaster' || !e.start || !e.end) return;
    const allDay = e.isAllDay ?? master?.isAllDay ?? false;
    const times = interval(e, allDay, e.originalStartTimeZone ?? master?.originalStartTimeZone);
    if (typeof times === 'string') {
      (pass.skipped ??= []).push({ remoteId: e.id, reason: times });
      pass.removed.push(e.id);
      return;
    }
    const event: ImportedEvent = {
      remoteId: e.id,
      ...times,
      allDay,
      showAs: graphShowAs({
        ...e,
        showAs: e.showAs ?? master?.showAs,
        responseStatus: e.responseStatus ?? master?.responseStatus,
      }),
    };
    if (e.seriesMasterId) event.seriesId = e.seriesMasterId;
    const title = e.subject ?? master?.subject;
    if (title) event.title = title;
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
        // Without it Graph sends no reauthorizationRequired / subscriptionRemoved / missed.
        lifecycleNotificationUrl: lifecycleUrlOf(input.address),
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
