import { randomUUID } from 'node:crypto';
import { AuthorizationCodes } from '../common/authCode';
import { CalendarPermissions } from './calendarPermissions';
import { expireUserAccessTokens, revokeUserTokens, tokenOwner } from '../common/tokens';
import { GraphError, accessDenied, itemNotFound, invalidRequest } from './errors';
import {
  canonicalPropertyId,
  checkTimes,
  newCalendarId,
  newChangeKey,
  newEventId,
  newICalUId,
  randomB64,
  validateEventBody,
  type EmailAddress,
  type StoredEvent,
} from './eventRules';
import {
  EXCEPTIONS_FIELD,
  exceptionsOf,
  occurrenceById,
  parseOccurrenceId,
  type OccurrenceExceptions,
  type OccurrenceView,
} from './occurrences';

export interface Mailbox {
  id: string;
  email: string;
  displayName: string;
  timeZone: string;
  defaultCalendarId: string;
}

export interface Calendar {
  id: string;
  name: string;
  owner: string;
  isDefault: boolean;
  changeKey: string;
  events: Map<string, StoredEvent>;
  /** Single-value extended properties by normalised id (an app's marker on its own calendars). */
  extended: Map<string, { id: string; value: string }>;
}

/** Mail Outlook sends on its own (invitations, cancellations): it always mails attendees. */
export interface SentMail {
  kind: 'invitation' | 'update' | 'cancellation';
  eventId: string;
  subject: string;
  to: string[];
  comment?: string;
  at: string;
}

interface RefreshToken {
  email: string;
  revoked: boolean;
  issuedAt: string;
}

interface AccessToken {
  email: string;
  expiresAt: number;
  revoked: boolean;
}

export interface IssuedTokens {
  id: string;
  email: string;
  refreshToken: string;
  accessToken: string;
  expiresIn: number;
  defaultCalendarId: string;
}

export type RefreshResult =
  | { ok: true; accessToken: string; refreshToken: string }
  | { ok: false; reason: 'revoked' | 'unknown'; issuedAt?: string };

/** The default calendar's alias in calsync links and in the control API. */
export const DEFAULT_CALENDAR = 'calendar';

export const GRAPH_SCOPE = 'https://graph.microsoft.com/Calendars.ReadWrite https://graph.microsoft.com/User.Read';

const now = (): string => new Date().toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');

/** In-memory state of emulated Microsoft 365 mailboxes, their calendars and the identity platform's tokens. */
export class MicrosoftStore {
  mailboxes = new Map<string, Mailbox>();
  calendars = new Map<string, Calendar>();
  refreshTokens = new Map<string, RefreshToken>();
  /** Authorization codes of the consent flow (single use, 60 s, PKCE-bound). */
  authCodes = new AuthorizationCodes();
  accessTokens = new Map<string, AccessToken>();
  forbiddenCalendars = new Set<string>();
  /** Who each calendar is shared with (calendarPermissions). */
  permissions = new CalendarPermissions();
  sentMail = new Map<string, SentMail[]>();
  accessTokenTtlSeconds = 3600;
  /**
   * Deleted events by `${calendarId}\n${transactionId}`: they sit in Deleted Items, and a create
   * repeating their transactionId is answered with the deleted event (201), not a new one. Graph's
   * event docs (https://learn.microsoft.com/graph/api/resources/event, transactionId) leave the
   * window open; its issue tracker reports this, and it is the stricter reading.
   */
  deletedByTransaction = new Map<string, StoredEvent>();
  /** Told about every event change (before, after; undefined when created or deleted): delta and subscriptions. */
  onEventChange?: (cal: Calendar, before: StoredEvent | undefined, after: StoredEvent | undefined) => void;

  reset(): void {
    this.mailboxes.clear();
    this.calendars.clear();
    this.refreshTokens.clear();
    this.authCodes.clear();
    this.accessTokens.clear();
    this.forbiddenCalendars.clear();
    this.sentMail.clear();
    this.deletedByTransaction.clear();
  }

  // ---- accounts and tokens ----

  createUser(rawEmail: string, timeZone = 'UTC', displayName?: string): IssuedTokens {
    const email = rawEmail.toLowerCase();
    let mailbox = this.mailboxes.get(email);
    if (!mailbox) {
      const calendarId = newCalendarId();
      mailbox = {
        id: randomUUID(),
        email,
        displayName: displayName ?? email.split('@')[0]!,
        timeZone,
        defaultCalendarId: calendarId,
      };
      this.mailboxes.set(email, mailbox);
      this.calendars.set(calendarId, {
        id: calendarId,
        name: 'Calendar',
        owner: email,
        isDefault: true,
        changeKey: newChangeKey(),
        events: new Map(),
        extended: new Map(),
      });
    }
    const refreshToken = this.issueRefreshToken(email);
    return {
      id: mailbox.id,
      email,
      refreshToken,
      accessToken: this.issueAccessToken(email),
      expiresIn: this.accessTokenTtlSeconds,
      defaultCalendarId: mailbox.defaultCalendarId,
    };
  }

  private issueRefreshToken(email: string): string {
    const token = `0.AXEA${randomB64(180)}`;
    this.refreshTokens.set(token, { email, revoked: false, issuedAt: new Date().toISOString() });
    return token;
  }

  issueAccessToken(email: string): string {
    const header = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'RS256' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ upn: email, jti: randomUUID() })).toString('base64url');
    const token = `${header}.${payload}.${randomB64(64)}`;
    this.accessTokens.set(token, { email, expiresAt: Date.now() + this.accessTokenTtlSeconds * 1000, revoked: false });
    return token;
  }

  /** Microsoft hands out a new refresh token with every refresh; the old one stays valid. */
  refresh(refreshToken: string): RefreshResult {
    const record = this.refreshTokens.get(refreshToken);
    if (!record || !this.mailboxes.has(record.email)) return { ok: false, reason: 'unknown' };
    if (record.revoked) return { ok: false, reason: 'revoked', issuedAt: record.issuedAt };
    return {
      ok: true,
      accessToken: this.issueAccessToken(record.email),
      refreshToken: this.issueRefreshToken(record.email),
    };
  }

  /** Like revokeSignInSessions: every refresh and access token of the user dies. */
  revokeUser(email: string): number {
    return revokeUserTokens(this.refreshTokens, this.accessTokens, email);
  }

  expireAccessTokens(email: string): number {
    return expireUserAccessTokens(this.accessTokens, email);
  }

  authenticate(accessToken: string | undefined): string | undefined {
    return tokenOwner(this.accessTokens, accessToken, (email) => this.mailboxes.has(email));
  }

  /** A mailbox by id or user principal name. */
  findMailbox(idOrUpn: string): Mailbox | undefined {
    const key = idOrUpn.toLowerCase();
    return this.mailboxes.get(key) ?? [...this.mailboxes.values()].find((m) => m.id === key);
  }

  // ---- calendars ----

  calendarsOf(email: string): Calendar[] {
    return [...this.calendars.values()].filter((c) => c.owner === email);
  }

  /** A calendar of the mailbox: `calendar` (or undefined) is the default one. Forbidden first, then 404. */
  calendar(email: string, calendarId: string | undefined): Calendar {
    const id =
      calendarId === undefined || calendarId === DEFAULT_CALENDAR
        ? this.mailboxes.get(email)?.defaultCalendarId
        : calendarId;
    if (id && this.forbiddenCalendars.has(id)) throw accessDenied();
    const cal = id ? this.calendars.get(id) : undefined;
    if (!cal || cal.owner !== email) throw itemNotFound();
    return cal;
  }

  createCalendar(email: string, body: unknown): Calendar {
    const { name, singleValueExtendedProperties: properties } = (body ?? {}) as {
      name?: unknown;
      singleValueExtendedProperties?: unknown;
    };
    if (typeof name !== 'string' || name.trim() === '') throw invalidRequest('A calendar needs a name.');
    if (properties !== undefined && !Array.isArray(properties))
      throw invalidRequest("Cannot read the value of property 'singleValueExtendedProperties': an array is expected.");
    const extended = new Map<string, { id: string; value: string }>();
    for (const p of (properties ?? []) as Array<{ id?: unknown; value?: unknown }>) {
      if (typeof p?.value !== 'string')
        throw invalidRequest('A singleValueLegacyExtendedProperty needs an id and a string value.');
      const id = canonicalPropertyId(p.id);
      extended.set(id, { id: String(p.id), value: p.value });
    }
    if (this.calendarsOf(email).some((c) => c.name === name)) {
      throw new GraphError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
    }
    const cal: Calendar = {
      id: newCalendarId(),
      name,
      owner: email,
      isDefault: false,
      changeKey: newChangeKey(),
      events: new Map(),
      extended,
    };
    this.calendars.set(cal.id, cal);
    return cal;
  }

  /** DELETE /calendars/{id}: a secondary calendar goes with its events; the default one cannot. */
  deleteCalendar(cal: Calendar): void {
    if (cal.isDefault) throw new GraphError(400, 'ErrorInvalidRequest', 'The default calendar cannot be deleted.');
    this.calendars.delete(cal.id);
  }

  // ---- events ----

  private organizer(email: string): { emailAddress: EmailAddress } {
    const m = this.mailboxes.get(email)!;
    return { emailAddress: { name: m.displayName, address: m.email } };
  }

  private mail(email: string, message: Omit<SentMail, 'at'>): void {
    if (message.to.length === 0) return;
    const list = this.sentMail.get(email) ?? [];
    list.push({ ...message, at: new Date().toISOString() });
    this.sentMail.set(email, list);
  }

  private attendeeAddresses(e: StoredEvent): string[] {
    const attendees = (e.fields.attendees as Array<{ emailAddress?: { address?: string } }> | undefined) ?? [];
    return attendees.map((a) => a.emailAddress?.address).filter((a): a is string => typeof a === 'string');
  }

  /**
   * Creates an event, or returns the one created earlier in this calendar with the same
   * transactionId (still there): a retried create never makes a second event.
   */
  createEvent(
    cal: Calendar,
    body: unknown,
    opts: { asAttendee?: boolean; response?: string } = {},
  ): { event: StoredEvent; deduplicated: boolean } {
    const transactionId =
      typeof (body as { transactionId?: unknown })?.transactionId === 'string'
        ? (body as { transactionId: string }).transactionId
        : null;
    if (transactionId !== null) {
      for (const e of cal.events.values())
        if (e.transactionId === transactionId) return { event: e, deduplicated: true };
      const deleted = this.deletedByTransaction.get(`${cal.id}\n${transactionId}`);
      if (deleted) return { event: deleted, deduplicated: true };
    }
    const { fields, extended } = validateEventBody(body);
    checkTimes(fields);
    const at = now();
    const event: StoredEvent = {
      id: newEventId(),
      calendarId: cal.id,
      changeKey: newChangeKey(),
      createdDateTime: at,
      lastModifiedDateTime: at,
      transactionId,
      iCalUId: newICalUId(),
      isOrganizer: !opts.asAttendee,
      ...(opts.asAttendee && opts.response ? { response: opts.response } : {}),
      organizer:
        opts.asAttendee && (fields.organizer as { emailAddress?: EmailAddress })?.emailAddress
          ? (fields.organizer as { emailAddress: EmailAddress })
          : this.organizer(cal.owner),
      fields,
      extended: new Map(extended.map((p) => [p.id, p])),
    };
    delete event.fields.organizer;
    cal.events.set(event.id, event);
    cal.changeKey = newChangeKey();
    this.onEventChange?.(cal, undefined, event);
    if (event.isOrganizer)
      this.mail(cal.owner, {
        kind: 'invitation',
        eventId: event.id,
        subject: String(fields.subject ?? ''),
        to: this.attendeeAddresses(event),
      });
    return { event, deduplicated: false };
  }

  /** An event by id, in one calendar or anywhere in the mailbox. */
  findEvent(email: string, eventId: string, cal?: Calendar): { cal: Calendar; event: StoredEvent } {
    for (const c of cal ? [cal] : this.calendarsOf(email)) {
      const event = c.events.get(eventId);
      if (event) {
        if (this.forbiddenCalendars.has(c.id)) throw accessDenied();
        return { cal: c, event };
      }
    }
    throw itemNotFound();
  }

  /** The event leaves one calendar for another of the same mailbox: gone from one, new in the other. */
  moveEvent(cal: Calendar, eventId: string, destination: Calendar): StoredEvent {
    const { event } = this.findEvent(cal.owner, eventId, cal);
    if (destination.owner !== cal.owner || destination.id === cal.id) throw itemNotFound();
    cal.events.delete(event.id);
    cal.changeKey = newChangeKey();
    this.onEventChange?.(cal, event, undefined);
    event.calendarId = destination.id;
    event.changeKey = newChangeKey();
    event.lastModifiedDateTime = now();
    destination.events.set(event.id, event);
    destination.changeKey = newChangeKey();
    this.onEventChange?.(destination, undefined, event);
    return event;
  }

  /** PATCH: top-level properties replace, extended properties merge by id. */
  patchEvent(cal: Calendar, eventId: string, body: unknown, ifMatch?: string): StoredEvent {
    const { event } = this.findEvent(cal.owner, eventId, cal);
    if (ifMatch !== undefined && ifMatch.trim() !== '*' && !ifMatch.includes(event.changeKey)) {
      throw new GraphError(
        412,
        'ErrorIrresolvableConflict',
        'The change key passed in the request does not match the current change key for the item.',
      );
    }
    const { fields, extended } = validateEventBody(body);
    delete fields.organizer;
    const merged = { ...event.fields };
    for (const [key, value] of Object.entries(fields)) {
      if (value === null) delete merged[key];
      else merged[key] = value;
    }
    checkTimes(merged);
    // A new pattern or new series times drop the occurrences changed or cancelled on their own, as Graph does.
    if (
      ['recurrence', 'start', 'end'].some(
        (k) => k in fields && JSON.stringify(fields[k]) !== JSON.stringify(event.fields[k]),
      )
    )
      delete merged[EXCEPTIONS_FIELD];
    const before = { ...event, extended: new Map(event.extended) };
    event.fields = merged;
    for (const p of extended) event.extended.set(p.id, p);
    event.changeKey = newChangeKey();
    event.lastModifiedDateTime = now();
    cal.changeKey = newChangeKey();
    this.onEventChange?.(cal, before, event);
    if (event.isOrganizer)
      this.mail(cal.owner, {
        kind: 'update',
        eventId,
        subject: String(merged.subject ?? ''),
        to: this.attendeeAddresses(event),
      });
    return event;
  }

  /** An occurrence of a series by its id (`/events/{occurrenceId}`); a cancelled one is not found. */
  findOccurrence(cal: Calendar, occurrenceId: string): { master: StoredEvent; occurrence: OccurrenceView } {
    const parsed = parseOccurrenceId(occurrenceId);
    const { event: master } = this.findEvent(cal.owner, parsed?.masterId ?? occurrenceId, cal);
    const occurrence = occurrenceById(master, occurrenceId);
    if (!occurrence || occurrence.cancelled) throw itemNotFound();
    return { master, occurrence };
  }

  /**
   * PATCH or DELETE of one occurrence: it becomes an exception of its series (its own fields) or a
   * cancelled occurrence; the series master records it, so the change shows in views and deltas.
   */
  changeOccurrence(
    cal: Calendar,
    occurrenceId: string,
    change: { patch: unknown } | { cancel: true },
  ): OccurrenceView | undefined {
    const { master } = this.findOccurrence(cal, occurrenceId);
    const exceptions = exceptionsOf(master);
    const stamp = { changeKey: newChangeKey(), lastModifiedDateTime: now() };
    let entry: OccurrenceExceptions[string];
    if ('cancel' in change) {
      entry = { cancelled: true, ...stamp };
    } else {
      const { fields } = validateEventBody(change.patch);
      for (const key of ['recurrence', 'organizer']) delete fields[key];
      entry = { fields: { ...(exceptions[occurrenceId]?.fields ?? {}), ...fields }, ...stamp };
    }
    const fields = { ...master.fields, [EXCEPTIONS_FIELD]: { ...exceptions, [occurrenceId]: entry } };
    if (entry.fields) checkTimes(occurrenceById({ ...master, fields }, occurrenceId)!.event.fields);
    const before = { ...master, extended: new Map(master.extended) };
    master.fields = fields;
    master.lastModifiedDateTime = stamp.lastModifiedDateTime;
    cal.changeKey = newChangeKey();
    this.onEventChange?.(cal, before, master);
    return entry.cancelled ? undefined : occurrenceById(master, occurrenceId);
  }

  /** Deleting a meeting in the organizer's calendar cancels it for every attendee, as in Outlook. */
  deleteEvent(cal: Calendar, eventId: string): void {
    const { event } = this.findEvent(cal.owner, eventId, cal);
    cal.events.delete(eventId);
    if (event.transactionId) this.deletedByTransaction.set(`${cal.id}\n${event.transactionId}`, event);
    if (event.isOrganizer)
      this.mail(cal.owner, {
        kind: 'cancellation',
        eventId,
        subject: String(event.fields.subject ?? ''),
        to: this.attendeeAddresses(event),
      });
    cal.changeKey = newChangeKey();
    this.onEventChange?.(cal, event, undefined);
  }

  /** Only the organizer can cancel; it removes the event and mails every attendee the comment. */
  cancelEvent(cal: Calendar, eventId: string, body: unknown): void {
    const { event } = this.findEvent(cal.owner, eventId, cal);
    if (!event.isOrganizer) {
      throw invalidRequest("Your request can't be completed. You need to be an organizer to cancel a meeting.");
    }
    const comment =
      (body as { Comment?: unknown; comment?: unknown } | null)?.Comment ??
      (body as { comment?: unknown } | null)?.comment;
    if (comment !== undefined && typeof comment !== 'string') throw invalidRequest('Comment must be a string.');
    this.mail(cal.owner, {
      kind: 'cancellation',
      eventId,
      subject: String(event.fields.subject ?? ''),
      to: this.attendeeAddresses(event),
      comment: comment ?? '',
    });
    cal.events.delete(eventId);
    if (event.transactionId) this.deletedByTransaction.set(`${cal.id}\n${event.transactionId}`, event);
    cal.changeKey = newChangeKey();
    this.onEventChange?.(cal, event, undefined);
  }
}
