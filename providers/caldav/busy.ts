import { DateTime } from 'luxon';
import { propfind, syncCollection } from 'tsdav';
import { CursorExpired, type BusyReader, type ImportPass, type PushChannel } from '../busyTypes';
import { ProviderError } from '../errors';
import { CalDavCalendar, multiget, remoteIdOf } from './calendar';
import { absolute } from './dav';
import { expandResource } from './expand';

/** Resources fetched by one multiget: a few hundred keep each answer well under the size bound. */
const MULTIGET_BATCH = 200;

/** The zone a calendar's all-day (floating) events are read in: its CALDAV:calendar-timezone, else UTC. */
async function calendarZone(fetch: typeof globalThis.fetch, url: string): Promise<string> {
  const [answer] = await propfind({ url, props: { 'c:calendar-timezone': {} }, depth: '0', fetch });
  const raw = answer?.props?.calendarTimezone;
  const text = typeof raw === 'string' ? raw : typeof raw?._cdata === 'string' ? raw._cdata : undefined;
  const tzid = text?.match(/^TZID:(.+)$/m)?.[1]?.trim();
  return tzid && DateTime.local().setZone(tzid).isValid ? tzid : 'UTC';
}

/**
 * Busy time from a CalDAV calendar. No push exists for third parties (iCloud included), so the
 * link is polled: a `sync-collection` REPORT (RFC 6578) from the last token lists what changed and
 * what went (a first pass, with no token, lists everything); the changed resources come by
 * multiget; each is expanded locally in the import window (./expand.ts), its moved occurrences in
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
        if (typeof taken === 'string') {
          (pass.skipped ??= []).push({ remoteId: remoteIdOf(href), reason: taken });
          continue;
        }
        pass.upserts.push(...taken.events);
        if (taken.incomplete) (pass.incomplete ??= []).push({ remoteId: remoteIdOf(href), reason: taken.incomplete });
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
