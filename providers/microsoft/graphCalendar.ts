import {
  AuthenticationHandler,
  Client,
  HTTPMessageHandler,
  type Context,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import { CALSYNC_TAG, OWNER_TAG } from '../../content/eventContent';
import { ProviderError, classifyHttpStatus, isNetworkError, parseRetryAfter } from '../errors';
import {
  type CalendarProvider,
  type CalendarProvisioning,
  type CalendarShare,
  type CalendarSharing,
  type DeleteOutcome,
  type ShareRole,
  type EventContent,
  type EventRef,
  type ObservedEvent,
  type OwnedEventsPage,
  type UpsertOptions,
  type UpsertResult,
} from '../types';
import { writeGraphExceptions, type GraphOccurrence, type GraphSeriesApi } from './seriesExceptions';
import {
  CALENDAR_MARKER_TAG,
  MICROSOFT_DEFAULT_CALENDAR,
  OBSERVED_SELECT,
  TARGET_TAG,
  observedExpand,
  observedFromGraph,
  propertyId,
  toGraphEvent,
  transactionIdFor,
  type GraphListedEvent,
} from './eventMapping';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME_MISMATCH/;

/** An OData string literal: quoted, quotes inside doubled. */
function odataLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Turns whatever the Graph client threw into a classified ProviderError. */
export function classifyGraphError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = err as {
    statusCode?: number;
    code?: string | null;
    message?: string;
    headers?: { get(name: string): string | null };
  };
  const status = typeof e.statusCode === 'number' && e.statusCode > 0 ? e.statusCode : undefined;
  const message = e.message || String(err);
  if (!status) {
    // No answer at all. FetchGuard below names the cause in `code`.
    const code = e.code ?? '';
    if (TLS_CODES.test(code)) return new ProviderError('permanent', 'tls_untrusted', `${code}: ${message}`);
    const network =
      isNetworkError({ code }) ||
      /^(TimeoutError|AbortError|network)$/.test(code) ||
      /fetch failed|timeout|socket|ECONN/i.test(message);
    return new ProviderError(network ? 'retryable' : 'permanent', network ? 'network' : 'client_error', message);
  }
  const code = e.code || `http_${status}`;
  // An expired or revoked access token: the caller drops it and the next attempt refreshes (a dead
  // refresh token shows up there, as invalid_grant).
  if (status === 401) return new ProviderError('retryable', code, message, status);
  // A PATCH (without If-Match) that met a concurrent change of the item: transient, the retry goes through.
  if (status === 412 && code === 'ErrorIrresolvableConflict')
    return new ProviderError('retryable', code, message, status);
  return new ProviderError(
    classifyHttpStatus(status),
    code,
    message,
    status,
    parseRetryAfter(e.headers?.get('retry-after')),
  );
}

/**
 * A middleware between authentication and the HTTP call: bounds each request with a timeout and,
 * when no answer comes, names the cause (ECONNREFUSED, a TLS code, …) in the error the client
 * wraps, since its GraphError keeps only the name.
 */
export class FetchGuard implements Middleware {
  private next?: Middleware;

  constructor(private readonly timeoutMs: number) {}

  async execute(context: Context): Promise<void> {
    context.options = { ...context.options, signal: context.options?.signal ?? AbortSignal.timeout(this.timeoutMs) };
    try {
      await this.next!.execute(context);
    } catch (err) {
      const cause = (err as { cause?: { code?: unknown } }).cause;
      const named = new Error(
        `${(err as Error).message}${cause ? ` (${String((cause as Error).message ?? cause)})` : ''}`,
      );
      named.name =
        typeof cause?.code === 'string'
          ? cause.code
          : (err as Error).name === 'TimeoutError'
            ? 'TimeoutError'
            : 'network';
      throw named;
    }
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

export interface MicrosoftCalendarOptions {
  /** `https://graph.microsoft.com`, or the emulator's https URL. */
  baseUrl: string;
  accessToken: string;
  timeoutMs?: number;
  /** Sent as `client-request-id` (when it is a UUID, as Graph wants), to match Graph's logs to the API request. */
  requestId?: string;
  onRequest?: (operation: string, seconds: number) => void;
  /** Awaited before each remote request: the mailbox's request budget (activities/accountPacing.ts). */
  pace?: () => Promise<void>;
}

interface FoundEvent {
  id: string;
  singleValueExtendedProperties?: Array<{ id: string; value: string }>;
}

/**
 * Every request asks for immutable ids: without it an event's id changes when it moves to another
 * calendar or folder (by the user, or Outlook's own archiving), and calsync would lose its events.
 * Added to whatever Prefer the request already has (page size, time zone).
 * https://learn.microsoft.com/en-us/graph/outlook-immutable-id
 */
export const IMMUTABLE_ID_PREFERENCE = 'IdType="ImmutableId"';

export class ImmutableIdHandler implements Middleware {
  private next?: Middleware;
  async execute(context: Context): Promise<void> {
    const headers = context.options?.headers;
    if (headers instanceof Headers) {
      const prefer = headers.get('Prefer');
      headers.set('Prefer', prefer ? `${prefer}, ${IMMUTABLE_ID_PREFERENCE}` : IMMUTABLE_ID_PREFERENCE);
    } else {
      const record = { ...(headers as Record<string, string> | undefined) };
      const name = Object.keys(record).find((k) => k.toLowerCase() === 'prefer') ?? 'Prefer';
      record[name] = record[name] ? `${record[name]}, ${IMMUTABLE_ID_PREFERENCE}` : IMMUTABLE_ID_PREFERENCE;
      context.options = { ...context.options, headers: record };
    }
    return this.next!.execute(context);
  }
  setNext(next: Middleware): void {
    this.next = next;
  }
}

/** Every request of the chain first waits for the mailbox's slot (activities/accountPacing.ts). */
class PaceHandler implements Middleware {
  private next?: Middleware;
  constructor(private readonly pace: () => Promise<void>) {}
  async execute(context: Context): Promise<void> {
    await this.pace();
    return this.next!.execute(context);
  }
  setNext(next: Middleware): void {
    this.next = next;
  }
}

/**
 * A Graph client as the link's user: the token from calsync's store, the mailbox's pacing, a timeout,
 * and deliberately no RetryHandler (the default chain has one that retries 429/503/504, POSTs
 * included): Temporal's activity retries own retrying, with calsync's idempotency (transactionId,
 * lookup by tag) and the server's Retry-After as the next delay.
 */
export function graphClient(opts: {
  baseUrl: string;
  accessToken: string;
  timeoutMs?: number;
  pace?: () => Promise<void>;
}): Client {
  const chain: Middleware[] = [
    new AuthenticationHandler({ getAccessToken: async () => opts.accessToken }),
    new ImmutableIdHandler(),
    ...(opts.pace ? [new PaceHandler(opts.pace)] : []),
    new FetchGuard(opts.timeoutMs ?? 15000),
    new HTTPMessageHandler(),
  ];
  for (let i = 0; i < chain.length - 1; i++) chain[i]!.setNext!(chain[i + 1]!);
  return Client.initWithMiddleware({
    middleware: chain[0]!,
    baseUrl: opts.baseUrl.replace(/\/+$/, ''),
    defaultVersion: 'v1.0',
    // The client sends the token only to Graph's own hosts or these (host names, no port).
    customHosts: new Set([new URL(opts.baseUrl).hostname]),
  });
}

/**
 * Calendar events in a Microsoft 365 mailbox through Microsoft Graph, as the link's user (`/me`).
 * Graph picks event ids itself, so calsync's deterministic id cannot be the event id: it travels
 * as the `calsyncTarget` extended property and seeds the create's transactionId; the Graph id is
 * returned for calsync to store and use for later writes.
 */
export class MicrosoftCalendarProvider implements CalendarProvider, CalendarProvisioning, CalendarSharing {
  private readonly client: Client;
  /** Time spent waiting for the mailbox's request slot, kept out of the request-duration metric. */
  private pacedMs = 0;

  constructor(private readonly opts: MicrosoftCalendarOptions) {
    const pace = opts.pace;
    this.client = graphClient({
      ...opts,
      pace:
        pace &&
        (async () => {
          const waitStartedAt = performance.now();
          await pace();
          this.pacedMs += performance.now() - waitStartedAt;
        }),
    });
  }

  private async call<T>(
    operation: string,
    path: string,
    send: (request: ReturnType<Client['api']>) => Promise<T>,
  ): Promise<T> {
    let request = this.client.api(path);
    if (this.opts.requestId && UUID.test(this.opts.requestId))
      request = request.header('client-request-id', this.opts.requestId);
    const startedAt = performance.now();
    const pacedBefore = this.pacedMs;
    try {
      return await send(request);
    } catch (err) {
      throw classifyGraphError(err);
    } finally {
      // A provider serves one activity, its requests one after another: the wait is this request's.
      this.opts.onRequest?.(operation, (performance.now() - startedAt - (this.pacedMs - pacedBefore)) / 1000);
    }
  }

  private permissionsPath(calendarId: string): string {
    return calendarId === MICROSOFT_DEFAULT_CALENDAR
      ? '/me/calendar/calendarPermissions'
      : `/me/calendars/${encodeURIComponent(calendarId)}/calendarPermissions`;
  }

  async listShares(calendarId: string): Promise<CalendarShare[]> {
    const page = (await this.call('calendarPermissions.list', this.permissionsPath(calendarId), (r) => r.get())) as {
      value: Array<{ id: string; role: string; isRemovable?: boolean; emailAddress?: { address?: string } }>;
    };
    return page.value
      .filter((p) => p.isRemovable !== false && p.emailAddress?.address)
      .map((p) => ({
        id: p.id,
        email: p.emailAddress!.address!.toLowerCase(),
        role: p.role === 'read' ? 'read' : p.role === 'write' ? 'write' : 'other',
      }));
  }

  async share(calendarId: string, email: string, role: ShareRole, existingId?: string): Promise<void> {
    if (existingId) {
      await this.call(
        'calendarPermissions.update',
        `${this.permissionsPath(calendarId)}/${encodeURIComponent(existingId)}`,
        (r) => r.patch({ role }),
      );
    } else {
      await this.call('calendarPermissions.create', this.permissionsPath(calendarId), (r) =>
        r.post({ emailAddress: { address: email, name: email }, role, isInsideOrganization: false, isRemovable: true }),
      );
    }
  }

  async unshare(calendarId: string, shareId: string): Promise<void> {
    try {
      await this.call(
        'calendarPermissions.delete',
        `${this.permissionsPath(calendarId)}/${encodeURIComponent(shareId)}`,
        (r) => r.delete(),
      );
    } catch (err) {
      if ((err as ProviderError).status !== 404) throw err;
    }
  }

  private eventsPath(calendarId: string): string {
    return calendarId === MICROSOFT_DEFAULT_CALENDAR
      ? '/me/calendar/events'
      : `/me/calendars/${encodeURIComponent(calendarId)}/events`;
  }

  /**
   * An event by its (immutable) id, wherever in the mailbox it now is: a user may drag it to another
   * calendar, and a path through the calendar it was made in would no longer find it.
   */
  private eventPath(_calendarId: string, eventId: string): string {
    return `/me/events/${encodeURIComponent(eventId)}`;
  }

  async upsertEvent(ref: EventRef, content: EventContent, opts: UpsertOptions): Promise<UpsertResult> {
    const written = await this.writeEvent(ref, content, opts);
    opts.onEventExists?.(written.remoteId);
    if (!content.recurrence) return written;
    const { missing } = await writeGraphExceptions(this.seriesApi(ref.calendarId), written.remoteId, content);
    if (missing.length === 0) return written;
    // An occurrence deleted earlier is wanted again (the CRM un-cancelled it): Graph cannot bring one
    // back, so the series is made again and its exceptions applied to the new one. A retry after a
    // crash in between finds no series by its tag and makes it, the same way.
    await this.deleteById(ref.calendarId, written.remoteId);
    const remade = await this.writeEvent(
      { ...ref, knownRemoteId: undefined },
      content,
      { believedToExist: false },
      'remade',
      written.remoteId,
    );
    opts.onEventExists?.(remade.remoteId);
    await writeGraphExceptions(this.seriesApi(ref.calendarId), remade.remoteId, content);
    return { outcome: 'updated', remoteId: remade.remoteId };
  }

  /** What writing a series' exceptions needs of the calendar (providers/microsoft/seriesExceptions.ts). */
  private seriesApi(calendarId: string): GraphSeriesApi {
    return {
      listOccurrences: async (seriesId, from, to) => {
        const out: GraphOccurrence[] = [];
        let path: string | undefined = `${this.eventPath(calendarId, seriesId)}/instances`;
        let first = true;
        while (path) {
          const page = (await this.call('events.instances', path, (r) =>
            first
              ? r
                  .query({ startDateTime: from, endDateTime: to })
                  .select('id,type,originalStart,subject,start,end')
                  .top(500)
                  .get()
              : r.get(),
          )) as { value: GraphOccurrence[]; '@odata.nextLink'?: string };
          out.push(...page.value);
          path = page['@odata.nextLink'];
          first = false;
        }
        return out;
      },
      patchOccurrence: async (occurrenceId, body) => {
        await this.call('events.update', this.eventPath(calendarId, occurrenceId), (r) => r.patch(body));
      },
      deleteOccurrence: (occurrenceId) => this.deleteById(calendarId, occurrenceId),
    };
  }

  /** `remake`: a series made again at the same revision needs a transactionId of its own. */
  private async writeEvent(
    ref: EventRef,
    content: EventContent,
    opts: UpsertOptions,
    remake?: 'remade',
    /** The event this create replaces (deleted by hand, or by the remake): its id makes the transactionId new. */
    replacing = ref.knownRemoteId,
  ): Promise<UpsertResult> {
    const event = toGraphEvent(content, ref.eventId);
    // An update of an appointment that is no longer a series turns the series back into one event.
    const body = content.recurrence ? event : { ...event, recurrence: null };
    if (ref.knownRemoteId) {
      try {
        await this.call('events.update', this.eventPath(ref.calendarId, ref.knownRemoteId), (r) => r.patch(body));
        return { outcome: 'updated', remoteId: ref.knownRemoteId };
      } catch (err) {
        // Deleted in Outlook since: write it again below.
        if ((err as ProviderError).status !== 404) throw err;
      }
    }
    // An event whose id calsync never learned (a create whose answer was lost) carries the tag.
    const [found] = await this.find(ref.calendarId, content.tags[CALSYNC_TAG] ?? ref.tag, ref.eventId);
    if (found) {
      await this.call('events.update', this.eventPath(ref.calendarId, found), (r) => r.patch(body));
      return { outcome: opts.believedToExist ? 'updated' : 'restored', remoteId: found };
    }
    const created = await this.call('events.create', this.eventsPath(ref.calendarId), (r) =>
      r.post({ ...event, transactionId: transactionIdFor(ref.eventId, content, remake, replacing) }),
    );
    return { outcome: 'inserted', remoteId: (created as { id: string }).id };
  }

  async deleteEvent(ref: EventRef): Promise<DeleteOutcome> {
    let deleted = false;
    if (ref.knownRemoteId) deleted = await this.deleteById(ref.calendarId, ref.knownRemoteId);
    // Without a known id, or when it was gone already: sweep up anything the tag still finds.
    if (!deleted) {
      let ids: string[];
      try {
        ids = await this.find(ref.calendarId, ref.tag, ref.eventId);
      } catch (err) {
        // The whole calendar is gone (a dedicated calendar deleted on disconnect): so is the event.
        if ((err as ProviderError).status === 404) return 'already_gone';
        throw err;
      }
      for (const id of ids) {
        if (await this.deleteById(ref.calendarId, id)) deleted = true;
      }
    }
    return deleted ? 'deleted' : 'already_gone';
  }

  async getEventById(calendarId: string, remoteId: string): Promise<ObservedEvent | undefined> {
    try {
      const event = await this.call('events.get', this.eventPath(calendarId, remoteId), (r) =>
        r.expand(observedExpand(odataLiteral)).select(OBSERVED_SELECT).get(),
      );
      return observedFromGraph(event as GraphListedEvent);
    } catch (err) {
      if ((err as ProviderError).status === 404) return undefined;
      throw err;
    }
  }

  /**
   * calsync's calendar of this name: Graph keeps no description, so calsync's calendars carry the
   * marker as an extended property, and only a marked calendar is ever taken (and later deleted).
   */
  async findCalendar(name: string, marker: string): Promise<string | undefined> {
    return this.calendarNamed(name, markedWith(marker));
  }

  /** The mailbox's calendar of this name (any name: undefined), among those matching `filter` (every one without it); every page. */
  private async calendarNamed(name: string | undefined, filter?: string): Promise<string | undefined> {
    let path: string | undefined = '/me/calendars';
    while (path) {
      const first = path === '/me/calendars';
      const page = (await this.call('calendars.list', path, (r) =>
        first ? (filter ? r.filter(filter) : r).select('id,name').get() : r.get(),
      )) as {
        value: Array<{ id: string; name: string }>;
        '@odata.nextLink'?: string;
      };
      const found = page.value.find((c) => name === undefined || c.name === name);
      if (found) return found.id;
      path = page['@odata.nextLink'];
    }
    return undefined;
  }

  async createCalendar(name: string, marker: string): Promise<{ calendarId: string; owned: boolean }> {
    try {
      const body = {
        name,
        singleValueExtendedProperties: [{ id: propertyId(CALENDAR_MARKER_TAG), value: marker }],
      };
      return {
        calendarId: ((await this.call('calendars.create', '/me/calendars', (r) => r.post(body))) as { id: string }).id,
        owned: true,
      };
    } catch (err) {
      if ((err as ProviderError).status !== 409) throw err;
      // Made by an attempt whose answer was lost: it carries the marker.
      const ours = await this.findCalendar(name, marker);
      if (ours) return { calendarId: ours, owned: true };
      // The user's own calendar of that name: written to, never deleted.
      const theirs = await this.calendarNamed(name);
      if (theirs) return { calendarId: theirs, owned: false };
      throw err;
    }
  }

  async deleteEventById(calendarId: string, remoteId: string): Promise<DeleteOutcome> {
    return (await this.deleteById(calendarId, remoteId)) ? 'deleted' : 'already_gone';
  }

  /**
   * calsync's events in the calendar: those whose owner property has this value (Graph filters
   * extended properties by id and value), with the appointment tag expanded. Later pages follow
   * Graph's own `@odata.nextLink`.
   */
  async listOwnedEvents(
    calendarId: string,
    owner: string,
    opts: { pageToken?: string; pageSize: number },
  ): Promise<OwnedEventsPage> {
    const page = (await this.call('events.list', opts.pageToken ?? this.eventsPath(calendarId), (r) =>
      opts.pageToken
        ? r.get()
        : r
            .filter(
              `singleValueExtendedProperties/Any(ep: ep/id eq ${odataLiteral(propertyId(OWNER_TAG))} and ep/value eq ${odataLiteral(owner)})`,
            )
            .expand(observedExpand(odataLiteral))
            .select(OBSERVED_SELECT)
            .top(opts.pageSize)
            .get(),
    )) as { value: GraphListedEvent[]; '@odata.nextLink'?: string };
    return { events: page.value.map(observedFromGraph), nextPageToken: page['@odata.nextLink'] };
  }

  async deleteCalendar(calendarId: string, marker: string): Promise<DeleteOutcome | 'not_ours'> {
    try {
      // Read again before deleting: only a calendar that carries this link's marker goes.
      const marked = await this.calendarsMarked(marker);
      if (!marked.includes(calendarId)) return (await this.calendarExists(calendarId)) ? 'not_ours' : 'already_gone';
      await this.call('calendars.delete', `/me/calendars/${encodeURIComponent(calendarId)}`, (r) => r.delete());
      return 'deleted';
    } catch (err) {
      if ((err as ProviderError).status === 404) return 'already_gone';
      throw err;
    }
  }

  /** The ids of the mailbox's calendars that carry this marker (every page). */
  private async calendarsMarked(marker: string): Promise<string[]> {
    const ids: string[] = [];
    let path: string | undefined = '/me/calendars';
    while (path) {
      const first = path === '/me/calendars';
      const page = (await this.call('calendars.list', path, (r) =>
        first ? r.filter(markedWith(marker)).select('id').get() : r.get(),
      )) as { value: Array<{ id: string }>; '@odata.nextLink'?: string };
      ids.push(...page.value.map((c) => c.id));
      path = page['@odata.nextLink'];
    }
    return ids;
  }

  private async calendarExists(calendarId: string): Promise<boolean> {
    try {
      await this.call('calendars.get', `/me/calendars/${encodeURIComponent(calendarId)}`, (r) => r.select('id').get());
      return true;
    } catch (err) {
      if ((err as ProviderError).status === 404) return false;
      throw err;
    }
  }

  /** True when the event was deleted, false when Graph says it is not there (404). */
  private async deleteById(calendarId: string, eventId: string): Promise<boolean> {
    try {
      await this.call('events.delete', this.eventPath(calendarId, eventId), (r) => r.delete());
      return true;
    } catch (err) {
      if ((err as ProviderError).status === 404) return false;
      throw err;
    }
  }

  /** Ids of calsync's events of this appointment (tag) on this target (target key) in the calendar. */
  private async find(calendarId: string, tag: string | undefined, targetKey: string): Promise<string[]> {
    if (!tag)
      throw new ProviderError(
        'permanent',
        'missing_tag',
        'an event without a known id can only be found by its calsync tag',
      );
    const literal = odataLiteral;
    const page = (await this.call('events.list', this.eventsPath(calendarId), (r) =>
      r
        .filter(
          `singleValueExtendedProperties/Any(ep: ep/id eq ${literal(propertyId(CALSYNC_TAG))} and ep/value eq ${literal(tag)})`,
        )
        .expand(`singleValueExtendedProperties($filter=id eq ${literal(propertyId(TARGET_TAG))})`)
        .select('id')
        .top(50)
        .get(),
    )) as { value: FoundEvent[] };
    return page.value
      .filter((e) =>
        e.singleValueExtendedProperties?.some(
          (p) => p.id.toLowerCase() === propertyId(TARGET_TAG).toLowerCase() && p.value === targetKey,
        ),
      )
      .map((e) => e.id);
  }
}

/** The OData filter of calendars carrying a link's marker (Graph filters extended properties by id and value). */
function markedWith(marker: string): string {
  return `singleValueExtendedProperties/Any(ep: ep/id eq ${odataLiteral(propertyId(CALENDAR_MARKER_TAG))} and ep/value eq ${odataLiteral(marker)})`;
}
