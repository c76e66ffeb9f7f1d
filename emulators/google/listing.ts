import { GoogleError, invalid } from './errors';
import { EventResource, instantOf, parseRfc3339 } from './eventRules';
import { EXPANSION_HORIZON_DAYS, overridesIn, singleEventsOf } from './instances';
import type { Calendar, GoogleStore, StoredEvent } from './store';

type Query = Record<string, unknown>;

const asList = (v: unknown): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String));
const single = (v: unknown): string | undefined =>
  v === undefined ? undefined : String(Array.isArray(v) ? v[v.length - 1] : v);

/** Filters that Google refuses to combine with a syncToken; a list using them yields no nextSyncToken. */
const SYNC_INCOMPATIBLE = [
  'timeMin',
  'timeMax',
  'q',
  'orderBy',
  'iCalUID',
  'updatedMin',
  'privateExtendedProperty',
  'sharedExtendedProperty',
];

interface PageCursor {
  /** Seq-ordered listing: last seq served. startTime ordering: offset. */
  after?: number;
  offset?: number;
  /** Calendar counter when the first page was served; becomes the nextSyncToken. */
  snap: number;
}

const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
function decode<T>(token: string): T | undefined {
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

const fullSyncRequired = (): GoogleError =>
  new GoogleError(410, 'fullSyncRequired', 'Sync token is no longer valid, a full sync is required.');

export function syncTokenFor(store: GoogleStore, cal: Calendar, seq: number): string {
  return encode({ c: cal.id, s: seq, e: store.syncEpoch });
}

function readSyncToken(store: GoogleStore, cal: Calendar, token: string): number {
  const parsed = decode<{ c?: unknown; s?: unknown; e?: unknown }>(token);
  if (
    !parsed ||
    parsed.c !== cal.id ||
    parsed.e !== store.syncEpoch ||
    typeof parsed.s !== 'number' ||
    parsed.s > cal.seq
  ) {
    throw fullSyncRequired();
  }
  return parsed.s;
}

function parseProps(values: string[], name: string): Array<[string, string]> {
  return values.map((v) => {
    const at = v.indexOf('=');
    if (at <= 0) throw invalid(`Invalid ${name} value.`, name);
    return [v.slice(0, at), v.slice(at + 1)];
  });
}

function parseTimeParam(query: Query, name: string): number | undefined {
  const raw = single(query[name]);
  if (raw === undefined) return undefined;
  const ms = parseRfc3339(raw);
  if (ms === undefined) throw invalid('Bad Request', name);
  return ms;
}

/** events.list with Google's paging, filtering and incremental-sync rules. */
export function listEvents(store: GoogleStore, cal: Calendar, query: Query): object {
  const syncToken = single(query.syncToken);
  if (syncToken !== undefined) {
    const clash = SYNC_INCOMPATIBLE.find((k) => query[k] !== undefined);
    if (clash) throw invalid(`Sync token cannot be used with ${clash}.`, clash);
  }
  let maxResults = 250;
  const rawMax = single(query.maxResults);
  if (rawMax !== undefined) {
    maxResults = Number(rawMax);
    if (!Number.isInteger(maxResults) || maxResults < 1) throw invalid('Invalid value for maxResults.', 'maxResults');
    maxResults = Math.min(maxResults, 2500);
  }
  const orderBy = single(query.orderBy);
  if (orderBy !== undefined && orderBy !== 'startTime' && orderBy !== 'updated')
    throw invalid('Invalid orderBy value.', 'orderBy');
  if (orderBy === 'startTime' && single(query.singleEvents) !== 'true') {
    throw invalid('The requested ordering is not available for the particular query.', 'orderBy');
  }
  const timeMin = parseTimeParam(query, 'timeMin');
  const timeMax = parseTimeParam(query, 'timeMax');
  const updatedMin = parseTimeParam(query, 'updatedMin');
  if (timeMin !== undefined && timeMax !== undefined && timeMax <= timeMin) {
    throw new GoogleError(400, 'timeRangeEmpty', 'The specified time range is empty.', 'global', {
      location: 'timeMax',
      locationType: 'parameter',
    });
  }
  const privateProps = parseProps(asList(query.privateExtendedProperty), 'privateExtendedProperty');
  const sharedProps = parseProps(asList(query.sharedExtendedProperty), 'sharedExtendedProperty');
  const q = single(query.q)?.toLowerCase();
  const iCalUID = single(query.iCalUID);
  const showDeleted = single(query.showDeleted) === 'true';

  const sinceSeq = syncToken !== undefined ? readSyncToken(store, cal, syncToken) : undefined;
  const rawPage = single(query.pageToken);
  let cursor: PageCursor = { snap: cal.seq };
  if (rawPage !== undefined) {
    const parsed = decode<PageCursor>(rawPage);
    if (!parsed || typeof parsed.snap !== 'number') throw invalid('Invalid page token value.', 'pageToken');
    cursor = parsed;
  }

  const matches = (e: StoredEvent): boolean => {
    const r = e.resource;
    if (sinceSeq !== undefined) return e.seq > sinceSeq;
    if (r.status === 'cancelled' && !showDeleted) return false;
    if (iCalUID !== undefined && r.iCalUID !== iCalUID) return false;
    if (updatedMin !== undefined && Date.parse(r.updated) < updatedMin) return false;
    for (const [k, v] of privateProps) if (r.extendedProperties?.private?.[k] !== v) return false;
    for (const [k, v] of sharedProps) if (r.extendedProperties?.shared?.[k] !== v) return false;
    if (q !== undefined && ![r.summary, r.description, r.location].some((s) => s?.toLowerCase().includes(q)))
      return false;
    const start = instantOf(r.start, cal.timeZone);
    // Series are not expanded, so a recurring event may reach beyond its first end.
    const end = r.recurrence?.length ? Number.POSITIVE_INFINITY : instantOf(r.end, cal.timeZone);
    if (timeMin !== undefined && end <= timeMin) return false;
    if (timeMax !== undefined && start >= timeMax) return false;
    return true;
  };

  // singleEvents=true lists each instance of a series instead of the series (they share its seq).
  const singleEvents = single(query.singleEvents) === 'true';
  const horizon = timeMax ?? Date.now() + EXPANSION_HORIZON_DAYS * 86400000;
  const entriesOf = (e: StoredEvent): Array<{ seq: number; resource: EventResource }> => {
    if (!singleEvents || !e.resource.recurrence?.length) return [{ seq: e.seq, resource: e.resource }];
    return singleEventsOf(e.resource, cal.timeZone, horizon, overridesIn(cal.events, 'omit'))
      .filter(
        (r) =>
          (timeMin === undefined || instantOf(r.end, cal.timeZone) > timeMin) &&
          (timeMax === undefined || instantOf(r.start, cal.timeZone) < timeMax),
      )
      .map((resource) => ({ seq: e.seq, resource }));
  };

  let items: EventResource[];
  let nextCursor: PageCursor | undefined;
  if (orderBy === 'startTime') {
    const all = [...cal.events.values()]
      .filter(matches)
      .flatMap(entriesOf)
      .sort((a, b) => instantOf(a.resource.start, cal.timeZone) - instantOf(b.resource.start, cal.timeZone));
    const offset = cursor.offset ?? 0;
    items = all.slice(offset, offset + maxResults).map((e) => e.resource);
    if (offset + maxResults < all.length) nextCursor = { offset: offset + maxResults, snap: cursor.snap };
  } else {
    // Paging on the change counter: an event edited mid-listing reappears later, none is skipped.
    // `offset` counts the entries of the `after` seq already served (a series' instances share it).
    const after = cursor.after ?? -1;
    const all = [...cal.events.values()]
      .filter((e) => e.seq >= after && matches(e))
      .sort((a, b) => a.seq - b.seq)
      .flatMap(entriesOf);
    // Sorted by seq, so the entries already served are the first ones.
    all.splice(0, Math.min(cursor.offset ?? 0, all.filter((e) => e.seq === after).length));
    const page = all.slice(0, maxResults);
    items = page.map((e) => e.resource);
    if (all.length > maxResults) {
      const lastSeq = page[page.length - 1].seq;
      const servedOfLast =
        page.filter((e) => e.seq === lastSeq).length + (lastSeq === after ? (cursor.offset ?? 0) : 0);
      nextCursor = { after: lastSeq, offset: servedOfLast, snap: cursor.snap };
    }
  }

  const body: Record<string, unknown> = {
    kind: 'calendar#events',
    etag: store.nextEtag(),
    summary: cal.summary,
    updated: new Date().toISOString(),
    timeZone: cal.timeZone,
    accessRole: 'owner',
    defaultReminders: [],
    items,
  };
  if (cal.description !== undefined) body.description = cal.description;
  if (nextCursor) body.nextPageToken = encode(nextCursor);
  else if (!SYNC_INCOMPATIBLE.some((k) => query[k] !== undefined))
    body.nextSyncToken = syncTokenFor(store, cal, cursor.snap);
  return body;
}

/** events.instances: a recurring event's instances (cancelled ones with showDeleted), paged by offset. */
export function listInstances(store: GoogleStore, cal: Calendar, eventId: string, query: Query): object {
  const master = store.getEvent(cal, eventId);
  const timeMin = parseTimeParam(query, 'timeMin');
  const timeMax = parseTimeParam(query, 'timeMax');
  const showDeleted = single(query.showDeleted) === 'true';
  const maxResults = Math.min(Number(single(query.maxResults) ?? 250) || 250, 2500);
  const all = (
    master.recurrence?.length
      ? singleEventsOf(
          master,
          cal.timeZone,
          timeMax ?? Date.now() + EXPANSION_HORIZON_DAYS * 86400000,
          overridesIn(cal.events, 'replace'),
        )
      : [master]
  )
    .filter((r) => showDeleted || r.status !== 'cancelled')
    .filter(
      (r) =>
        (timeMin === undefined || instantOf(r.end, cal.timeZone) > timeMin) &&
        (timeMax === undefined || instantOf(r.start, cal.timeZone) < timeMax),
    );
  const rawPage = single(query.pageToken);
  const offset = rawPage === undefined ? 0 : (decode<{ offset?: number }>(rawPage)?.offset ?? 0);
  const body: Record<string, unknown> = {
    kind: 'calendar#events',
    etag: store.nextEtag(),
    summary: cal.summary,
    updated: new Date().toISOString(),
    timeZone: cal.timeZone,
    accessRole: 'owner',
    defaultReminders: [],
    items: all.slice(offset, offset + maxResults),
  };
  if (offset + maxResults < all.length) body.nextPageToken = encode({ offset: offset + maxResults });
  return body;
}
