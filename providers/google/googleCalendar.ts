import type { calendar_v3 } from 'googleapis';
import { googleCalendarClient } from './googleClient';
import { ProviderError, classifyHttpStatus, isNetworkError, parseRetryAfter } from '../errors';
import { OWNER_TAG } from '../../content/eventContent';
import {
  dedicatedCalendarDescription,
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
  type UpsertOutcome,
  type UpsertOptions,
  type UpsertResult,
} from '../types';
import { observedFromGoogle, sendUpdatesFor, toGoogleEvent } from './eventMapping';
import { writeGoogleExceptions, type GoogleSeriesApi } from './seriesExceptions';

const retryableReasons = new Set([
  'rateLimitExceeded',
  'userRateLimitExceeded',
  'quotaExceeded',
  'backendError',
  'internalError',
]);

function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** Turns whatever googleapis threw into a classified ProviderError. */
export function classifyGoogleError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = err as {
    response?: { status?: number; data?: any; headers?: unknown };
    code?: unknown;
    message?: string;
    cause?: unknown;
  };
  const status = e.response?.status;
  if (!status) {
    const network = isNetworkError(err) || isNetworkError(e.cause) || /timeout|aborted|socket/i.test(e.message ?? '');
    return new ProviderError(
      network ? 'retryable' : 'permanent',
      network ? 'network' : 'client_error',
      e.message ?? String(err),
    );
  }
  const body = e.response?.data?.error;
  const reason: string | undefined = body?.errors?.[0]?.reason;
  const message: string = body?.message ?? e.message ?? `HTTP ${status}`;
  const retryAfterMs = parseRetryAfter(headerValue(e.response?.headers, 'retry-after'));
  const code = reason ?? `http_${status}`;
  if (status === 403 && reason && retryableReasons.has(reason))
    return new ProviderError('retryable', code, message, status, retryAfterMs);
  // An expired access token: the next attempt refreshes it. A dead refresh token is found there.
  if (status === 401) return new ProviderError('retryable', reason ?? 'authError', message, status);
  return new ProviderError(classifyHttpStatus(status), code, message, status, retryAfterMs);
}

export interface GoogleCalendarOptions {
  rootUrl: string;
  accessToken: string;
  timeoutMs?: number;
  /** Sent as `X-Request-Id` on every call, so a provider-side trace can be matched to the API request. */
  requestId?: string;
  /** Told how long each remote request took (metrics). */
  onRequest?: (operation: string, seconds: number) => void;
  /** Awaited before each remote request: the account's request budget (activities/accountPacing.ts). */
  pace?: () => Promise<void>;
}

export class GoogleCalendarProvider implements CalendarProvider, CalendarProvisioning, CalendarSharing {
  private readonly api: calendar_v3.Calendar;
  private readonly callOptions: { headers?: Record<string, string> };

  constructor(private readonly opts: GoogleCalendarOptions) {
    this.api = googleCalendarClient(opts);
    this.callOptions = opts.requestId ? { headers: { 'X-Request-Id': opts.requestId } } : {};
  }

  /** One remote request, timed, with the per-request options. */
  private async call<T>(
    operation: string,
    send: (options: { headers?: Record<string, string> }) => Promise<T>,
  ): Promise<T> {
    await this.opts.pace?.();
    const startedAt = performance.now();
    try {
      return await send(this.callOptions);
    } finally {
      this.opts.onRequest?.(operation, (performance.now() - startedAt) / 1000);
    }
  }

  /** Google takes calsync's deterministic id as the event id, so that is the remote id too. */
  async upsertEvent(ref: EventRef, content: EventContent, opts: UpsertOptions): Promise<UpsertResult> {
    const outcome = await this.write(ref, content, opts);
    opts.onEventExists?.(ref.eventId);
    if (content.recurrence) await writeGoogleExceptions(this.seriesApi(), ref, content);
    return { outcome, remoteId: ref.eventId };
  }

  /** What writing a series' exceptions needs of the calendar (providers/google/seriesExceptions.ts). */
  private seriesApi(): GoogleSeriesApi {
    return {
      listInstances: (calendarId, eventId, pageToken) =>
        this.call('events.instances', (o) =>
          this.api.events.instances({ calendarId, eventId, pageToken, maxResults: 2500 }, o),
        )
          .then((r) => r.data)
          .catch((e) => {
            throw classifyGoogleError(e);
          }),
      updateInstance: (calendarId, body, sendUpdates) =>
        this.call('events.update', (o) =>
          this.api.events.update({ calendarId, eventId: body.id!, requestBody: body, sendUpdates }, o),
        )
          .then(() => undefined)
          .catch((e) => {
            throw classifyGoogleError(e);
          }),
    };
  }

  private async write(ref: EventRef, content: EventContent, opts: UpsertOptions): Promise<UpsertOutcome> {
    const body = toGoogleEvent(ref.eventId, content);
    const sendUpdates = sendUpdatesFor(content.notifyAttendees && !content.quiet);
    if (!opts.believedToExist) {
      try {
        await this.call('events.insert', (o) =>
          this.api.events.insert({ calendarId: ref.calendarId, requestBody: body, sendUpdates }, o),
        );
        return 'inserted';
      } catch (err) {
        const classified = classifyGoogleError(err);
        if (classified.status !== 409) throw classified;
        opts.onEventExists?.(ref.eventId);
        // The id is taken: our own insert whose answer was lost, or an event Google remembers as
        // deleted. A full update refreshes the first and restores the second.
      }
      await this.update(ref, body, sendUpdates);
      return 'restored';
    }
    try {
      await this.update(ref, body, sendUpdates);
      return 'updated';
    } catch (err) {
      if ((err as ProviderError).status !== 404) throw err;
      await this.call('events.insert', (o) =>
        this.api.events.insert({ calendarId: ref.calendarId, requestBody: body, sendUpdates }, o),
      ).catch((e) => {
        throw classifyGoogleError(e);
      });
      return 'inserted';
    }
  }

  async deleteEvent(ref: EventRef): Promise<DeleteOutcome> {
    return this.deleteEventById(ref.calendarId, ref.eventId, sendUpdatesFor(ref.notifyAttendees));
  }

  /** Orphans and reconciliation tell no one (`none`); an appointment's own removal may tell its attendees. */
  async deleteEventById(
    calendarId: string,
    eventId: string,
    sendUpdates: 'externalOnly' | 'none' = 'none',
  ): Promise<DeleteOutcome> {
    try {
      await this.call('events.delete', (o) => this.api.events.delete({ calendarId, eventId, sendUpdates }, o));
      return 'deleted';
    } catch (err) {
      const classified = classifyGoogleError(err);
      // Only a definite 404/410 means gone; anything else may be transient.
      if (classified.status === 404 || classified.status === 410) return 'already_gone';
      throw classified;
    }
  }

  async listShares(calendarId: string): Promise<CalendarShare[]> {
    const shares: CalendarShare[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call('acl.list', (o) => this.api.acl.list({ calendarId, pageToken }, o)).catch((e) => {
        throw classifyGoogleError(e);
      });
      for (const rule of page.data.items ?? []) {
        if (rule.scope?.type !== 'user' || !rule.scope.value || rule.role === 'owner' || !rule.id) continue;
        shares.push({
          id: rule.id,
          email: rule.scope.value.toLowerCase(),
          role: rule.role === 'reader' ? 'read' : rule.role === 'writer' ? 'write' : 'other',
        });
      }
      pageToken = page.data.nextPageToken ?? undefined;
    } while (pageToken);
    return shares;
  }

  /** acl.insert for a scope that has a rule already changes its role, so one call does both. */
  async share(calendarId: string, email: string, role: ShareRole): Promise<void> {
    await this.call('acl.insert', (o) =>
      this.api.acl.insert(
        {
          calendarId,
          sendNotifications: false,
          requestBody: { role: role === 'write' ? 'writer' : 'reader', scope: { type: 'user', value: email } },
        },
        o,
      ),
    ).catch((e) => {
      throw classifyGoogleError(e);
    });
  }

  async unshare(calendarId: string, shareId: string): Promise<void> {
    try {
      await this.call('acl.delete', (o) => this.api.acl.delete({ calendarId, ruleId: shareId }, o));
    } catch (err) {
      const classified = classifyGoogleError(err);
      if (classified.status !== 404 && classified.status !== 410) throw classified;
    }
  }

  /** A calendar the account owns with this name and this link's marker (calendarList, every page). */
  async findCalendar(name: string, marker: string): Promise<string | undefined> {
    let pageToken: string | undefined;
    do {
      const page = await this.call('calendarList.list', (o) =>
        this.api.calendarList.list({ minAccessRole: 'owner', maxResults: 250, pageToken }, o),
      ).catch((e) => {
        throw classifyGoogleError(e);
      });
      const found = page.data.items?.find(
        (c) => c.summary === name && c.description === dedicatedCalendarDescription(marker) && !c.deleted,
      );
      if (found?.id) return found.id;
      pageToken = page.data.nextPageToken ?? undefined;
    } while (pageToken);
    return undefined;
  }

  /** Google allows calendars of the same name: calsync's is always a new one, told apart by its description. */
  async createCalendar(name: string, marker: string): Promise<{ calendarId: string; owned: boolean }> {
    const created = await this.call('calendars.insert', (o) =>
      this.api.calendars.insert(
        { requestBody: { summary: name, description: dedicatedCalendarDescription(marker) } },
        o,
      ),
    ).catch((e) => {
      throw classifyGoogleError(e);
    });
    return { calendarId: created.data.id!, owned: true };
  }

  async deleteCalendar(calendarId: string, marker: string): Promise<DeleteOutcome | 'not_ours'> {
    try {
      const calendar = await this.call('calendars.get', (o) => this.api.calendars.get({ calendarId }, o));
      if (calendar.data.description !== dedicatedCalendarDescription(marker)) return 'not_ours';
      await this.call('calendars.delete', (o) => this.api.calendars.delete({ calendarId }, o));
      return 'deleted';
    } catch (err) {
      const classified = classifyGoogleError(err);
      if (classified.status === 404 || classified.status === 410) return 'already_gone';
      throw classified;
    }
  }

  /**
   * calsync's events in the calendar: `privateExtendedProperty` filters by name and value, so the
   * owner tag carries one value per tenant and target. Deleted events are left out (not shown).
   */
  async listOwnedEvents(
    calendarId: string,
    owner: string,
    opts: { pageToken?: string; pageSize: number },
  ): Promise<OwnedEventsPage> {
    try {
      const res = await this.call('events.list', (o) =>
        this.api.events.list(
          {
            calendarId,
            privateExtendedProperty: [`${OWNER_TAG}=${owner}`],
            maxResults: opts.pageSize,
            pageToken: opts.pageToken,
            showDeleted: false,
          },
          o,
        ),
      );
      // A series' instance overrides are listed too (they carry its tags): they are part of the
      // series' write, never orphans of their own.
      const events = (res.data.items ?? []).filter((e) => !e.recurringEventId).map(observedFromGoogle);
      return { events, nextPageToken: res.data.nextPageToken ?? undefined };
    } catch (err) {
      throw classifyGoogleError(err);
    }
  }

  async getEventById(calendarId: string, eventId: string): Promise<ObservedEvent | undefined> {
    try {
      const res = await this.call('events.get', (o) => this.api.events.get({ calendarId, eventId }, o));
      // Google remembers deleted events: a cancelled one is gone as far as the staff member sees.
      return res.data.status === 'cancelled' ? undefined : observedFromGoogle(res.data);
    } catch (err) {
      const classified = classifyGoogleError(err);
      if (classified.status === 404 || classified.status === 410) return undefined;
      throw classified;
    }
  }

  private async update(
    ref: EventRef,
    body: calendar_v3.Schema$Event,
    sendUpdates: 'externalOnly' | 'none',
  ): Promise<void> {
    try {
      await this.call('events.update', (o) =>
        this.api.events.update({ calendarId: ref.calendarId, eventId: ref.eventId, requestBody: body, sendUpdates }, o),
      );
    } catch (err) {
      throw classifyGoogleError(err);
    }
  }
}
