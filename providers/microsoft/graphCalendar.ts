import { AuthenticationHandler, Client, HTTPMessageHandler, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import { CALSYNC_TAG } from '../eventContent';
import { ProviderError, classifyHttpStatus, isNetworkError, parseRetryAfter } from '../errors';
import type { CalendarProvider, DeleteOutcome, EventContent, EventRef, UpsertResult } from '../types';
import { MICROSOFT_DEFAULT_CALENDAR, TARGET_TAG, propertyId, toGraphEvent, transactionIdFor } from './eventMapping';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME_MISMATCH/;

/** Turns whatever the Graph client threw into a classified ProviderError. */
export function classifyGraphError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = err as { statusCode?: number; code?: string | null; message?: string; headers?: { get(name: string): string | null } };
  const status = typeof e.statusCode === 'number' && e.statusCode > 0 ? e.statusCode : undefined;
  const message = e.message || String(err);
  if (!status) {
    // No answer at all. FetchGuard below names the cause in `code`.
    const code = e.code ?? '';
    if (TLS_CODES.test(code)) return new ProviderError('permanent', 'tls_untrusted', `${code}: ${message}`);
    const network = isNetworkError({ code }) || /^(TimeoutError|AbortError|network)$/.test(code) || /fetch failed|timeout|socket|ECONN/i.test(message);
    return new ProviderError(network ? 'retryable' : 'permanent', network ? 'network' : 'client_error', message);
  }
  const code = e.code || `http_${status}`;
  // An expired or revoked access token: the caller drops it and the next attempt refreshes (a dead
  // refresh token shows up there, as invalid_grant).
  if (status === 401) return new ProviderError('retryable', code, message, status);
  return new ProviderError(classifyHttpStatus(status), code, message, status, parseRetryAfter(e.headers?.get('retry-after')));
}

/**
 * A middleware between authentication and the HTTP call: bounds each request with a timeout and,
 * when no answer comes, names the cause (ECONNREFUSED, a TLS code, …) in the error the client
 * wraps, since its GraphError keeps only the name.
 */
class FetchGuard implements Middleware {
  private next?: Middleware;

  constructor(private readonly timeoutMs: number) {}

  async execute(context: Context): Promise<void> {
    context.options = { ...context.options, signal: context.options?.signal ?? AbortSignal.timeout(this.timeoutMs) };
    try {
      await this.next!.execute(context);
    } catch (err) {
      const cause = (err as { cause?: { code?: unknown } }).cause;
      const named = new Error(`${(err as Error).message}${cause ? ` (${String((cause as Error).message ?? cause)})` : ''}`);
      named.name = typeof cause?.code === 'string' ? cause.code : (err as Error).name === 'TimeoutError' ? 'TimeoutError' : 'network';
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
}

interface FoundEvent {
  id: string;
  singleValueExtendedProperties?: Array<{ id: string; value: string }>;
}

/**
 * Calendar events in a Microsoft 365 mailbox through Microsoft Graph, as the link's user (`/me`).
 * Graph picks event ids itself, so calsync's deterministic id cannot be the event id: it travels
 * as the `calsyncTarget` extended property and seeds the create's transactionId; the Graph id is
 * returned for calsync to store and use for later writes.
 */
export class MicrosoftCalendarProvider implements CalendarProvider {
  private readonly client: Client;

  constructor(private readonly opts: MicrosoftCalendarOptions) {
    const auth = new AuthenticationHandler({ getAccessToken: async () => opts.accessToken });
    const guard = new FetchGuard(opts.timeoutMs ?? 15000);
    auth.setNext(guard);
    guard.setNext(new HTTPMessageHandler());
    // Deliberately no RetryHandler (the default chain has one that retries 429/503/504, POSTs
    // included): Temporal's activity retries own retrying, with calsync's idempotency
    // (transactionId, lookup by tag) and the server's Retry-After as the next delay.
    this.client = Client.initWithMiddleware({
      middleware: auth,
      baseUrl: opts.baseUrl.replace(/\/+$/, ''),
      defaultVersion: 'v1.0',
      // The client sends the token only to Graph's own hosts or these (host names, no port).
      customHosts: new Set([new URL(opts.baseUrl).hostname]),
    });
  }

  private async call<T>(operation: string, path: string, send: (request: ReturnType<Client['api']>) => Promise<T>): Promise<T> {
    let request = this.client.api(path);
    if (this.opts.requestId && UUID.test(this.opts.requestId)) request = request.header('client-request-id', this.opts.requestId);
    const startedAt = performance.now();
    try {
      return await send(request);
    } catch (err) {
      throw classifyGraphError(err);
    } finally {
      this.opts.onRequest?.(operation, (performance.now() - startedAt) / 1000);
    }
  }

  private eventsPath(calendarId: string): string {
    return calendarId === MICROSOFT_DEFAULT_CALENDAR ? '/me/calendar/events' : `/me/calendars/${encodeURIComponent(calendarId)}/events`;
  }

  private eventPath(calendarId: string, eventId: string): string {
    return `${this.eventsPath(calendarId)}/${encodeURIComponent(eventId)}`;
  }

  async upsertEvent(ref: EventRef, content: EventContent, opts: { believedToExist: boolean }): Promise<UpsertResult> {
    const body = toGraphEvent(content, ref.eventId);
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
      r.post({ ...body, transactionId: transactionIdFor(ref.eventId, content) }),
    );
    return { outcome: 'inserted', remoteId: (created as { id: string }).id };
  }

  async deleteEvent(ref: EventRef): Promise<DeleteOutcome> {
    let deleted = false;
    if (ref.knownRemoteId) deleted = await this.deleteById(ref.calendarId, ref.knownRemoteId);
    // Without a known id, or when it was gone already: sweep up anything the tag still finds.
    if (!deleted) {
      for (const id of await this.find(ref.calendarId, ref.tag, ref.eventId)) {
        if (await this.deleteById(ref.calendarId, id)) deleted = true;
      }
    }
    return deleted ? 'deleted' : 'already_gone';
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
    if (!tag) throw new ProviderError('permanent', 'missing_tag', 'an event without a known id can only be found by its calsync tag');
    const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;
    const page = (await this.call('events.list', this.eventsPath(calendarId), (r) =>
      r
        .filter(`singleValueExtendedProperties/Any(ep: ep/id eq ${literal(propertyId(CALSYNC_TAG))} and ep/value eq ${literal(tag)})`)
        .expand(`singleValueExtendedProperties($filter=id eq ${literal(propertyId(TARGET_TAG))})`)
        .select('id')
        .top(50)
        .get(),
    )) as { value: FoundEvent[] };
    return page.value
      .filter((e) => e.singleValueExtendedProperties?.some((p) => p.id.toLowerCase() === propertyId(TARGET_TAG).toLowerCase() && p.value === targetKey))
      .map((e) => e.id);
  }
}
