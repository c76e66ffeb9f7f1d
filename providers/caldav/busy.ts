import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { propfind, syncCollection } from 'tsdav';
import { CursorExpired, type BusyReader, type ImportPass, type ImportedEvent, type PushChannel } from '../busyTypes';
import { ProviderError } from '../errors';
import { CalDavCalendar, multiget, remoteIdOf } from './calendar';
import { absolute } from './dav';
import { epochOf, parseResource, showAsOf, tagProperty } from './eventIcs';

/** Resources fetched by one multiget: a few hundred keep each answer well under the size bound. */
const MULTIGET_BATCH = 200;
/** Occurrences of one series kept per pass at most: bounds what one imported series costs. */
const MAX_EXPANDED_OCCURRENCES = 1000;
/** Occurrences stepped through per series at most, window or not: bounds the work one tenant's series causes. */
const MAX_EXPANSION_STEPS = 20_000;

/** The zone a calendar's all-day (floating) events are read in: its CALDAV:calendar-timezone, else UTC. */
async function calendarZone(fetch: typeof globalThis.fetch, url: string): Promise<string> {
  const [answer] = await propfind({ url, props: { 'c:calendar-timezone': {} }, depth: '0', fetch });
  const raw = answer?.props?.calendarTimezone;
  const text = typeof raw === 'string' ? raw : typeof raw?._cdata === 'string' ? raw._cdata : undefined;
  const tzid = text?.match(/^TZID:(.+)$/m)?.[1]?.trim();
  return tzid && DateTime.local().setZone(tzid).isValid ? tzid : 'UTC';
}

/** An ICAL.Time as an instant; a DATE (all-day) is midnight in `zone`, a floating time is local to `zone`. */
function instant(t: ICAL.Time, zone: string): Date {
  if (t.isDate || t.zone === ICAL.Timezone.localTimezone || !t.zone)
    return DateTime.fromObject(
      { year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second },
      { zone },
    ).toJSDate();
  return new Date(epochOf(t));
}

/**
 * Busy time from a CalDAV calendar. No push exists for third parties (iCloud included), so the
 * link is polled: a `sync-collection` REPORT (RFC 6578) from the last token lists what changed and
 * what went (a first pass, with no token, lists everything); the changed resources come by
 * multiget; each is expanded locally with ical.js in the import window, its moved occurrences in
 * place and its cancelled ones left out. An invalid token (403 `valid-sync-token`) means a full pass.
 */
export class CalDavBusyReader implements BusyReader {
  constructor(
    private readonly fetch: typeof globalThis.fetch,
    private readonly calendar: CalDavCalendar,
  ) {}

  async read(calendarId: string, cursor: string | undefined, window: { start: Date; end: Date }): Promise<ImportPass> {
    const url = await this.calendar.collection(calendarId);
    const answers = await syncCollection({
      url,
      props: { 'd:getetag': {} },
      syncLevel: 1,
      syncToken: cursor ?? '',
      fetch: this.fetch,
    });
    const head = answers[0];
    if (head && !head.href && head.status >= 400) {
      if (cursor && (head.status === 403 || head.status === 409 || head.status === 410))
        throw new CursorExpired(`sync-collection refused the token (${head.status})`);
      throw new ProviderError(
        'permanent',
        `http_${head.status}`,
        `sync-collection: the server answered ${head.status}`,
      );
    }
    const token = head?.raw?.multistatus?.syncToken;
    if (typeof token !== 'string' || !token)
      throw new ProviderError('permanent', 'sync_unsupported', 'the calendar server gave no sync token (RFC 6578)');
    const pass: ImportPass = { full: cursor === undefined, upserts: [], removed: [], removedSeries: [], cursor: token };
    const changed: string[] = [];
    for (const answer of answers) {
      if (!answer.href) continue;
      const href = absolute(answer.href, url);
      if (!href.toLowerCase().endsWith('.ics') && href.endsWith('/')) continue;
      const id = remoteIdOf(href);
      // Whatever it was (an event or a series), what is stored of it goes; what it is now comes below.
      pass.removed.push(id);
      pass.removedSeries.push(id);
      if (answer.status === 404 || answer.status === 410) continue;
      changed.push(href);
    }
    const zone = changed.length ? await calendarZone(this.fetch, url) : 'UTC';
    for (let i = 0; i < changed.length; i += MULTIGET_BATCH) {
      const data = await multiget(this.fetch, url, changed.slice(i, i + MULTIGET_BATCH));
      for (const [href, ics] of data) {
        const taken = expandResource(remoteIdOf(href), ics, window, zone);
        if (typeof taken === 'string') (pass.skipped ??= []).push({ remoteId: remoteIdOf(href), reason: taken });
        else pass.upserts.push(...taken);
      }
    }
    return pass;
  }

  watch(): Promise<PushChannel> {
    return Promise.reject(new ProviderError('permanent', 'provider_unsupported', 'CalDAV servers offer no push'));
  }

  renew(): Promise<false> {
    return Promise.resolve(false);
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * One resource's busy time in the window: a single event, or each occurrence of a series (RRULE,
 * RDATE, EXDATE and the overrides with their RECURRENCE-ID, as ical.js expands them). calsync's
 * own events (an X-CALSYNC-ID tag) and cancelled ones give nothing; free ones come as `free`.
 * A string is why the resource cannot be read.
 */
export function expandResource(
  id: string,
  ics: string,
  window: { start: Date; end: Date },
  zone: string,
): ImportedEvent[] | string {
  const parsed = parseResource(ics);
  if (!parsed) return 'the resource is not iCalendar';
  const { master, overrides } = parsed;
  if (master.hasProperty(tagProperty('calsyncId'))) return [];
  const cancelled = (v: ICAL.Component) =>
    String(v.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED';
  if (cancelled(master)) return [];
  const title = (v: ICAL.Component) => {
    const summary = v.getFirstPropertyValue('summary');
    return summary ? { title: String(summary) } : {};
  };
  const event = new ICAL.Event(master, { exceptions: overrides.map((o) => new ICAL.Event(o)) });
  if (!event.startDate) return 'the event has no start';
  const allDay = event.startDate.isDate;
  if (!event.isRecurring()) {
    const start = instant(event.startDate, zone);
    const end = event.endDate ? instant(event.endDate, zone) : start;
    return [{ remoteId: id, start, end, allDay, showAs: showAsOf(master), ...title(master) }];
  }
  const out: ImportedEvent[] = [];
  const iterator = event.iterator();
  // Bounded twice: occurrences kept, and steps taken to reach the window (a daily series from years ago).
  for (
    let steps = 0, next = iterator.next();
    next && out.length < MAX_EXPANDED_OCCURRENCES && steps < MAX_EXPANSION_STEPS;
    steps++, next = iterator.next()
  ) {
    const details = event.getOccurrenceDetails(next);
    const start = instant(details.startDate, zone);
    const end = instant(details.endDate, zone);
    // A moved occurrence may now lie before its original start: stop only well past the window.
    if (instant(next, zone).getTime() >= window.end.getTime() + 366 * 86400_000) break;
    if (end <= window.start || start >= window.end) continue;
    const own = details.item.component;
    if (cancelled(own)) continue;
    out.push({
      remoteId: `${id}#${details.recurrenceId.toString()}`,
      seriesId: id,
      start,
      end,
      allDay,
      showAs: showAsOf(own),
      ...title(own),
    });
  }
  return out;
}
