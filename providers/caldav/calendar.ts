import { calendarMultiGet, calendarQuery, fetchCalendars, makeCalendar, propfind } from 'tsdav';
import { ProviderError } from '../errors';
import { dedicatedCalendarDescription } from '../types';
import type {
  CalendarApi,
  DeleteOutcome,
  EventContent,
  EventRef,
  ObservedEvent,
  OwnedEventsPage,
  UpsertResult,
} from '../types';
import { CALDAV_DEFAULT_CALENDAR } from './config';
import { absolute, lastSegment } from './dav';
import { eventIcs, observedOf, resourceName, sequenceOf, tagProperty } from './eventIcs';

/** A resource as read: its text and ETag (undefined when it is gone). */
interface Resource {
  ics: string;
  etag: string | null;
}

/** A write answered with something no retry can change. */
function refused(operation: string, res: Response): ProviderError {
  const code = res.status === 403 ? 'forbidden' : res.status === 409 ? 'conflict' : `http_${res.status}`;
  return new ProviderError('permanent', code, `${operation}: the server answered ${res.status}`, res.status);
}

/** Rewrites after a 412 (someone changed the resource between the read and the write) before giving up for now. */
const PRECONDITION_ROUNDS = 3;

/**
 * calsync's events in a CalDAV calendar (iCloud, Fastmail, Nextcloud, Radicale), over tsdav for
 * the WebDAV reports and plain requests for the writes, whose preconditions calsync decides:
 * create with `If-None-Match: *`, update with `If-Match: <etag>`, a 412 read again and retried.
 * Calendar ids are collection URLs; event ids are calsync's deterministic ids, as resource names.
 */
export class CalDavCalendar implements CalendarApi {
  constructor(
    private readonly fetch: typeof globalThis.fetch,
    private readonly homeUrl: string,
  ) {}

  /** The collection URL of a calendar id (`default`: the account's first event calendar). */
  async collection(calendarId: string): Promise<string> {
    if (calendarId !== CALDAV_DEFAULT_CALENDAR) return calendarId.endsWith('/') ? calendarId : `${calendarId}/`;
    const calendars = await fetchCalendars({
      account: { accountType: 'caldav', serverUrl: this.homeUrl, homeUrl: this.homeUrl, rootUrl: this.homeUrl },
      fetch: this.fetch,
    });
    // calsync's own dedicated calendars are never the account's default.
    const first = calendars.find(
      (c) =>
        (!c.components || c.components.includes('VEVENT')) &&
        !absolute(c.url, this.homeUrl).startsWith(this.dedicatedUrl('')),
    );
    if (!first) throw new ProviderError('permanent', 'calendar_not_found', 'the account has no calendar for events');
    return absolute(first.url, this.homeUrl);
  }

  private async resourceUrl(ref: Pick<EventRef, 'calendarId' | 'eventId'>): Promise<string> {
    return `${await this.collection(ref.calendarId)}${resourceName(ref.eventId)}`;
  }

  private async read(url: string): Promise<Resource | undefined> {
    const res = await this.fetch(url, { method: 'GET' });
    if (res.status === 404 || res.status === 410) return undefined;
    if (!res.ok) throw refused('GET event', res);
    return { ics: await res.text(), etag: res.headers.get('etag') };
  }

  private put(url: string, ics: string, precondition: Record<string, string>): Promise<Response> {
    return this.fetch(url, {
      method: 'PUT',
      headers: { 'content-type': 'text/calendar; charset=utf-8', ...precondition },
      body: ics,
    });
  }

  async upsertEvent(ref: EventRef, content: EventContent, opts: { believedToExist: boolean }): Promise<UpsertResult> {
    const url = await this.resourceUrl(ref);
    let current = opts.believedToExist ? await this.read(url) : undefined;
    for (let round = 0; round <= PRECONDITION_ROUNDS; round++) {
      if (!current) {
        const res = await this.put(url, eventIcs(ref.eventId, content, 0), { 'if-none-match': '*' });
        if (res.ok) return { outcome: opts.believedToExist ? 'restored' : 'inserted', remoteId: ref.eventId };
        // 412: it exists (an earlier attempt made it and its answer was lost): read it and update.
        if (res.status !== 412) throw refused('PUT new event', res);
      } else {
        // A server that rewrote the resource may send no ETag (iCloud): then the read is the precondition's base.
        const precondition: Record<string, string> = current.etag ? { 'if-match': current.etag } : {};
        const res = await this.put(url, eventIcs(ref.eventId, content, sequenceOf(current.ics) + 1), precondition);
        if (res.ok) return { outcome: 'updated', remoteId: ref.eventId };
        if (res.status !== 412) throw refused('PUT event', res);
      }
      current = await this.read(url);
    }
    throw new ProviderError('retryable', 'precondition_failed', 'the event kept changing while it was written', 412);
  }

  async deleteEvent(ref: EventRef): Promise<DeleteOutcome> {
    return this.deleteUrl(await this.resourceUrl(ref));
  }

  private async deleteUrl(url: string): Promise<DeleteOutcome> {
    const res = await this.fetch(url, { method: 'DELETE' });
    // Only a definite 404/410 says it is gone.
    if (res.status === 404 || res.status === 410) return 'already_gone';
    if (!res.ok) throw refused('DELETE event', res);
    return 'deleted';
  }

  /**
   * calsync's events in the calendar: a calendar-query whose prop-filter matches the owner tag
   * (RFC 4791 §9.7.2), with the resources' data. CalDAV has no paging: one page, the whole answer
   * (bounded by the outbound answer size).
   */
  async listOwnedEvents(calendarId: string, owner: string): Promise<OwnedEventsPage> {
    const url = await this.collection(calendarId);
    const answers = await calendarQuery({
      url,
      props: { 'd:getetag': {}, 'c:calendar-data': {} },
      filters: {
        'c:comp-filter': {
          _attributes: { name: 'VCALENDAR' },
          'c:comp-filter': {
            _attributes: { name: 'VEVENT' },
            'c:prop-filter': {
              _attributes: { name: tagProperty('calsyncOwner').toUpperCase() },
              'c:text-match': { _attributes: { collation: 'i;octet' }, _text: owner },
            },
          },
        },
      },
      depth: '1',
      fetch: this.fetch,
    });
    const events: ObservedEvent[] = [];
    for (const answer of answers) {
      if (!answer.href || !answer.ok) continue;
      const data = calendarData(answer.props);
      const observed = data ? observedOf(remoteIdOf(absolute(answer.href, url)), data) : undefined;
      // Exact value: a text-match is a substring match.
      if (observed && observed.owner === owner) events.push(observed);
    }
    return { events };
  }

  async getEventById(calendarId: string, remoteId: string): Promise<ObservedEvent | undefined> {
    const found = await this.read(await this.resourceUrl({ calendarId, eventId: remoteId }));
    return found ? observedOf(remoteId, found.ics) : undefined;
  }

  async deleteEventById(calendarId: string, remoteId: string): Promise<DeleteOutcome> {
    return this.deleteUrl(await this.resourceUrl({ calendarId, eventId: remoteId }));
  }

  /** A dedicated calendar lives at a URL named after the link's marker: finding it is one PROPFIND. */
  private dedicatedUrl(marker: string): string {
    return `${this.homeUrl.endsWith('/') ? this.homeUrl : `${this.homeUrl}/`}calsync-${encodeURIComponent(marker)}/`;
  }

  /** The description of a collection, or undefined when there is none at that URL. */
  private async descriptionOf(url: string): Promise<string | undefined> {
    const [answer] = await propfind({
      url,
      props: { 'c:calendar-description': {}, 'd:displayname': {} },
      depth: '0',
      fetch: this.fetch,
    });
    if (!answer || answer.status === 404 || answer.status === 410) return undefined;
    if (!answer.ok)
      throw new ProviderError('permanent', `http_${answer.status}`, `PROPFIND calendar: ${answer.status}`);
    return String(answer.props?.calendarDescription ?? '');
  }

  async findCalendar(_name: string, marker: string): Promise<string | undefined> {
    const url = this.dedicatedUrl(marker);
    const description = await this.descriptionOf(url);
    return description?.includes(marker) ? url : undefined;
  }

  async createCalendar(name: string, marker: string): Promise<{ calendarId: string; owned: boolean }> {
    const url = this.dedicatedUrl(marker);
    const [answer] = await makeCalendar({
      url,
      props: {
        'd:displayname': name,
        'c:calendar-description': dedicatedCalendarDescription(marker),
        'c:supported-calendar-component-set': { 'c:comp': { _attributes: { name: 'VEVENT' } } },
      },
      fetch: this.fetch,
    });
    const status = answer?.status ?? 0;
    // 405: something is there already (a retried MKCALENDAR whose answer was lost): ours when it carries the marker.
    if (status === 405 || status === 409) {
      const description = await this.descriptionOf(url);
      return { calendarId: url, owned: description?.includes(marker) ?? false };
    }
    if (status < 200 || status >= 300)
      throw new ProviderError(
        status === 403 ? 'permanent' : 'retryable',
        status === 403 ? 'forbidden' : `http_${status}`,
        `MKCALENDAR: the server answered ${status}`,
        status,
      );
    return { calendarId: url, owned: true };
  }

  async deleteCalendar(calendarId: string, marker: string): Promise<DeleteOutcome | 'not_ours'> {
    const description = await this.descriptionOf(calendarId);
    if (description === undefined) return 'already_gone';
    if (!description.includes(marker)) return 'not_ours';
    const res = await this.fetch(calendarId, { method: 'DELETE' });
    if (res.status === 404 || res.status === 410) return 'already_gone';
    if (!res.ok) throw refused('DELETE calendar', res);
    return 'deleted';
  }
}

/** calendar-data as tsdav parses it: text, or an object holding it. */
export function calendarData(props: Record<string, any> | undefined): string | undefined {
  const data = props?.calendarData;
  if (typeof data === 'string') return data;
  if (data && typeof data === 'object' && typeof data._cdata === 'string') return data._cdata;
  if (data && typeof data === 'object' && typeof data._text === 'string') return data._text;
  return undefined;
}

/** An event resource's id: its name without `.ics`. */
export const remoteIdOf = (url: string): string => lastSegment(url).replace(/\.ics$/i, '');

/** Multiget of resources (by URL): their data, by URL. */
export async function multiget(
  fetch: typeof globalThis.fetch,
  collectionUrl: string,
  urls: string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (urls.length === 0) return out;
  const answers = await calendarMultiGet({
    url: collectionUrl,
    props: { 'd:getetag': {}, 'c:calendar-data': {} },
    objectUrls: urls.map((u) => new URL(u).pathname),
    depth: '1',
    fetch,
  });
  for (const answer of answers) {
    const data = calendarData(answer.props);
    if (answer.href && answer.ok && data) out.set(absolute(answer.href, collectionUrl), data);
  }
  return out;
}
