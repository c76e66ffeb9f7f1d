import { google, calendar_v3 } from 'googleapis';
import { ProviderError, classifyHttpStatus, isNetworkError, parseRetryAfter } from '../errors';
import type { CalendarProvider, DeleteOutcome, EventContent, EventRef, UpsertOutcome, UpsertResult } from '../types';
import { toGoogleEvent } from './eventMapping';

const retryableReasons = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'backendError', 'internalError']);

function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** Turns whatever googleapis threw into a classified ProviderError. */
export function classifyGoogleError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = err as { response?: { status?: number; data?: any; headers?: unknown }; code?: unknown; message?: string; cause?: unknown };
  const status = e.response?.status;
  if (!status) {
    const network = isNetworkError(err) || isNetworkError(e.cause) || /timeout|aborted|socket/i.test(e.message ?? '');
    return new ProviderError(network ? 'retryable' : 'permanent', network ? 'network' : 'client_error', e.message ?? String(err));
  }
  const body = e.response?.data?.error;
  const reason: string | undefined = body?.errors?.[0]?.reason;
  const message: string = body?.message ?? e.message ?? `HTTP ${status}`;
  const retryAfterMs = parseRetryAfter(headerValue(e.response?.headers, 'retry-after'));
  const code = reason ?? `http_${status}`;
  if (status === 403 && reason && retryableReasons.has(reason)) return new ProviderError('retryable', code, message, status, retryAfterMs);
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
}

export class GoogleCalendarProvider implements CalendarProvider {
  private readonly api: calendar_v3.Calendar;
  private readonly callOptions: { headers?: Record<string, string> };

  constructor(private readonly opts: GoogleCalendarOptions) {
    const auth = new google.auth.OAuth2();
    auth.setCredentials({ access_token: opts.accessToken });
    // googleapis retries 5xx by itself, re-applying writes; Temporal owns retries instead.
    this.api = google.calendar({ version: 'v3', auth, rootUrl: opts.rootUrl, retry: false, timeout: opts.timeoutMs ?? 15000 });
    this.callOptions = opts.requestId ? { headers: { 'X-Request-Id': opts.requestId } } : {};
  }

  /** One remote request, timed, with the per-request options. */
  private async call<T>(operation: string, send: (options: { headers?: Record<string, string> }) => Promise<T>): Promise<T> {
    const startedAt = performance.now();
    try {
      return await send(this.callOptions);
    } finally {
      this.opts.onRequest?.(operation, (performance.now() - startedAt) / 1000);
    }
  }

  /** Google takes calsync's deterministic id as the event id, so that is the remote id too. */
  async upsertEvent(ref: EventRef, content: EventContent, opts: { believedToExist: boolean }): Promise<UpsertResult> {
    return { outcome: await this.write(ref, content, opts), remoteId: ref.eventId };
  }

  private async write(ref: EventRef, content: EventContent, opts: { believedToExist: boolean }): Promise<UpsertOutcome> {
    const body = toGoogleEvent(ref.eventId, content);
    if (!opts.believedToExist) {
      try {
        await this.call('events.insert', (o) => this.api.events.insert({ calendarId: ref.calendarId, requestBody: body, sendUpdates: 'none' }, o));
        return 'inserted';
      } catch (err) {
        const classified = classifyGoogleError(err);
        if (classified.status !== 409) throw classified;
        // The id is taken: our own insert whose answer was lost, or an event Google remembers as
        // deleted. A full update refreshes the first and restores the second.
      }
      await this.update(ref, body);
      return 'restored';
    }
    try {
      await this.update(ref, body);
      return 'updated';
    } catch (err) {
      if ((err as ProviderError).status !== 404) throw err;
      await this.call('events.insert', (o) => this.api.events.insert({ calendarId: ref.calendarId, requestBody: body, sendUpdates: 'none' }, o)).catch((e) => {
        throw classifyGoogleError(e);
      });
      return 'inserted';
    }
  }

  async deleteEvent(ref: EventRef): Promise<DeleteOutcome> {
    try {
      await this.call('events.delete', (o) => this.api.events.delete({ calendarId: ref.calendarId, eventId: ref.eventId, sendUpdates: 'none' }, o));
      return 'deleted';
    } catch (err) {
      const classified = classifyGoogleError(err);
      // Only a definite 404/410 means gone; anything else may be transient.
      if (classified.status === 404 || classified.status === 410) return 'already_gone';
      throw classified;
    }
  }

  private async update(ref: EventRef, body: calendar_v3.Schema$Event): Promise<void> {
    try {
      await this.call('events.update', (o) => this.api.events.update({ calendarId: ref.calendarId, eventId: ref.eventId, requestBody: body, sendUpdates: 'none' }, o));
    } catch (err) {
      throw classifyGoogleError(err);
    }
  }
}
