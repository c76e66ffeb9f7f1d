import { randomBytes } from 'node:crypto';
import { AuthorizationCodes } from '../common/authCode';
import { expireUserAccessTokens, revokeUserTokens, tokenOwner } from '../common/tokens';
import { GoogleError, forbidden, invalid, notFound } from './errors';
import { CalendarAcl } from './acl';
import { GuestMailLog } from './guestMail';
import {
  EventResource,
  EventTime,
  Fields,
  instantOf,
  isBase32HexId,
  isValidZone,
  mergePatch,
  mergeTimePatch,
  pickWritable,
  randomBase32Hex,
  timeChanged,
  validateWritable,
} from './eventRules';
import { EXPANSION_HORIZON_DAYS, parseInstanceId, singleEventsOf } from './instances';

export interface StoredEvent {
  resource: EventResource;
  /** Value of the calendar's change counter at this event's last write; drives sync tokens. */
  seq: number;
}

export interface Calendar {
  id: string;
  summary: string;
  description?: string;
  timeZone: string;
  owner: string;
  primary: boolean;
  etag: string;
  events: Map<string, StoredEvent>;
  /** Monotonic change counter of this calendar. */
  seq: number;
}

interface AccessToken {
  email: string;
  refreshToken?: string;
  expiresAt: number;
  revoked: boolean;
}

interface RefreshToken {
  email: string;
  revoked: boolean;
}

export interface IssuedTokens {
  email: string;
  refreshToken: string;
  accessToken: string;
  expiresIn: number;
}

export const CALENDAR_SCOPE = 'https://www.googleapis.com/auth/calendar';

const opaqueToken = (prefix: string): string => `${prefix}${randomBytes(24).toString('base64url')}`;

/** In-memory state of the emulated Google account system and calendars, plus their rules. */
export class GoogleStore {
  users = new Map<string, { email: string; timeZone: string }>();
  calendars = new Map<string, Calendar>();
  refreshTokens = new Map<string, RefreshToken>();
  accessTokens = new Map<string, AccessToken>();
  forbiddenCalendars = new Set<string>();
  /** Authorization codes of the consent flow (single use, 60 s, PKCE-bound). */
  authCodes = new AuthorizationCodes();
  /** What Google would have mailed event guests (sendUpdates). */
  guestMail = new GuestMailLog();
  /** Who a calendar is shared with (acl.*). */
  acl = new CalendarAcl();
  accessTokenTtlSeconds = 3600;
  /** Sync tokens embed this; changing it invalidates every token issued before. */
  syncEpoch = randomBytes(6).toString('hex');
  private etagClock = 0;
  /** Told about every change to a calendar's events (push channels). */
  onCalendarChange?: (cal: Calendar) => void;

  reset(): void {
    this.users.clear();
    this.calendars.clear();
    this.refreshTokens.clear();
    this.accessTokens.clear();
    this.forbiddenCalendars.clear();
    this.authCodes.clear();
    this.guestMail.clear();
    this.expireSyncTokens();
  }

  expireSyncTokens(): void {
    this.syncEpoch = randomBytes(6).toString('hex');
  }

  nextEtag(): string {
    this.etagClock = Math.max(this.etagClock + 1, Date.now() * 1000);
    return `"${this.etagClock}"`;
  }

  // ---- accounts and tokens ----

  createUser(rawEmail: string, timeZone = 'UTC'): IssuedTokens {
    const email = rawEmail.toLowerCase();
    if (!this.users.has(email)) {
      this.users.set(email, { email, timeZone });
      this.calendars.set(email, {
        id: email,
        summary: email,
        timeZone,
        owner: email,
        primary: true,
        etag: this.nextEtag(),
        events: new Map(),
        seq: 0,
      });
    }
    const refreshToken = opaqueToken('1//');
    this.refreshTokens.set(refreshToken, { email, revoked: false });
    const accessToken = this.issueAccessToken(email, refreshToken);
    return { email, refreshToken, accessToken, expiresIn: this.accessTokenTtlSeconds };
  }

  issueAccessToken(email: string, refreshToken?: string): string {
    const token = opaqueToken('ya29.');
    this.accessTokens.set(token, {
      email,
      refreshToken,
      expiresAt: Date.now() + this.accessTokenTtlSeconds * 1000,
      revoked: false,
    });
    return token;
  }

  /** Returns a fresh access token, or undefined when the refresh token is dead. */
  refresh(refreshToken: string): string | undefined {
    const record = this.refreshTokens.get(refreshToken);
    if (!record || record.revoked || !this.users.has(record.email)) return undefined;
    return this.issueAccessToken(record.email, refreshToken);
  }

  /** Google revokes the refresh token behind an access token too. */
  revokeToken(token: string): boolean {
    const access = this.accessTokens.get(token);
    const refreshToken = access ? access.refreshToken : token;
    if (access) access.revoked = true;
    const refresh = refreshToken ? this.refreshTokens.get(refreshToken) : undefined;
    if (refresh && refreshToken) {
      refresh.revoked = true;
      for (const a of this.accessTokens.values()) if (a.refreshToken === refreshToken) a.revoked = true;
    }
    return Boolean(access || refresh);
  }

  revokeUser(email: string): number {
    return revokeUserTokens(this.refreshTokens, this.accessTokens, email);
  }

  expireAccessTokens(email: string): number {
    return expireUserAccessTokens(this.accessTokens, email);
  }

  authenticate(accessToken: string | undefined): string | undefined {
    return tokenOwner(this.accessTokens, accessToken, (email) => this.users.has(email));
  }

  // ---- calendars ----

  resolveCalendarId(email: string, calendarId: string): string {
    return calendarId === 'primary' ? email : calendarId;
  }

  /** The calendar the user may act on; forbidden knob first, then ownership (404 like Google). */
  ownedCalendar(email: string, calendarId: string): Calendar {
    const id = this.resolveCalendarId(email, calendarId);
    if (this.forbiddenCalendars.has(id)) throw forbidden();
    const cal = this.calendars.get(id);
    if (!cal || cal.owner !== email) throw notFound();
    return cal;
  }

  calendarsOf(email: string): Calendar[] {
    return [...this.calendars.values()].filter((c) => c.owner === email);
  }

  insertCalendar(email: string, body: Fields): Calendar {
    if (typeof body.summary !== 'string' || body.summary === '') {
      throw new GoogleError(400, 'required', 'Missing title.', 'global', {
        location: 'summary',
        locationType: 'parameter',
      });
    }
    const timeZone = body.timeZone ?? this.users.get(email)?.timeZone ?? 'UTC';
    if (!isValidZone(timeZone)) throw invalid('Invalid time zone.', 'timeZone');
    const id = `${randomBase32Hex(26)}@group.calendar.google.com`;
    const cal: Calendar = {
      id,
      summary: body.summary,
      timeZone,
      owner: email,
      primary: false,
      etag: this.nextEtag(),
      events: new Map(),
      seq: 0,
    };
    if (typeof body.description === 'string') cal.description = body.description;
    this.calendars.set(id, cal);
    return cal;
  }

  deleteCalendar(cal: Calendar): void {
    if (cal.primary) {
      throw new GoogleError(400, 'cannotDeletePrimaryCalendar', 'Cannot delete primary calendar.');
    }
    this.calendars.delete(cal.id);
  }

  // ---- events ----

  private organizerOf(cal: Calendar): EventResource['organizer'] {
    return cal.primary ? { email: cal.id, self: true } : { email: cal.id, displayName: cal.summary, self: true };
  }

  private save(cal: Calendar, resource: EventResource): EventResource {
    cal.seq += 1;
    cal.events.set(resource.id, { resource, seq: cal.seq });
    this.onCalendarChange?.(cal);
    return resource;
  }

  private ctx(cal: Calendar) {
    return { ownerEmail: cal.owner, organizerEmail: cal.id, calendarZone: cal.timeZone };
  }

  /**
   * `trusted` is for the control API (edits "in Google's UI"): any id is accepted
   * and an existing id is patched instead of rejected.
   */
  insertEvent(cal: Calendar, body: Fields, opts: { trusted?: boolean } = {}): EventResource {
    const hasId = body.id !== undefined && body.id !== null;
    if (hasId && !opts.trusted && !isBase32HexId(body.id)) {
      throw invalid('Invalid resource id value.', 'id');
    }
    const id = hasId ? String(body.id) : randomBase32Hex(26);
    const existing = cal.events.get(id);
    if (existing) {
      if (opts.trusted) return this.patchEvent(cal, id, body);
      throw new GoogleError(409, 'duplicate', 'The requested identifier already exists.');
    }
    if (typeof body.iCalUID === 'string') {
      for (const e of cal.events.values()) {
        if (e.resource.iCalUID === body.iCalUID) {
          throw new GoogleError(409, 'duplicate', 'The requested identifier already exists.');
        }
      }
    }
    const fields = validateWritable(pickWritable(body), this.ctx(cal));
    const now = new Date().toISOString();
    const sequence = typeof fields.sequence === 'number' ? fields.sequence : 0;
    const eid = Buffer.from(`${id} ${cal.id}`).toString('base64').replace(/=+$/, '');
    const resource: EventResource = {
      kind: 'calendar#event',
      etag: this.nextEtag(),
      id,
      status: 'confirmed',
      htmlLink: `https://www.google.com/calendar/event?eid=${eid}`,
      created: now,
      updated: now,
      ...fields,
      creator: { email: cal.owner, self: true },
      organizer: this.organizerOf(cal),
      start: fields.start as EventResource['start'],
      end: fields.end as EventResource['end'],
      iCalUID: typeof body.iCalUID === 'string' ? body.iCalUID : `${id}@google.com`,
      sequence,
      reminders: fields.reminders as EventResource['reminders'],
      eventType: String(fields.eventType),
    };
    return this.save(cal, resource);
  }

  getEvent(cal: Calendar, eventId: string): EventResource {
    const stored = cal.events.get(eventId);
    if (stored) return stored.resource;
    // An instance of a series not changed on its own: what its expansion shows (writing it stores it).
    const instance = virtualInstance(cal, eventId);
    if (!instance) throw notFound();
    return instance;
  }

  private checkIfMatch(resource: EventResource, ifMatch: string | undefined): void {
    if (ifMatch === undefined || ifMatch.trim() === '*') return;
    const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
    if (!tags.includes(resource.etag)) {
      throw new GoogleError(412, 'conditionNotMet', 'Precondition Failed', 'global', {
        location: 'If-Match',
        locationType: 'header',
      });
    }
  }

  private rewrite(cal: Calendar, current: EventResource, fields: Fields, requestedSequence: unknown): EventResource {
    const checked = validateWritable(fields, this.ctx(cal));
    if (current.recurringEventId)
      checked.originalStartTime = keptOriginalStart(current, checked.originalStartTime, cal.timeZone);
    let sequence = current.sequence + (timeChanged(current, checked) ? 1 : 0);
    if (requestedSequence !== undefined) {
      if (typeof requestedSequence === 'number' && requestedSequence < current.sequence) {
        throw invalid(
          'Invalid sequence value. The specified sequence number is below the current sequence number of the resource.',
          'sequence',
        );
      }
      sequence = Math.max(sequence, Number(requestedSequence));
    }
    const next: EventResource = {
      kind: 'calendar#event',
      etag: this.nextEtag(),
      id: current.id,
      status: 'confirmed',
      htmlLink: current.htmlLink,
      created: current.created,
      updated: new Date().toISOString(),
      ...checked,
      creator: current.creator,
      organizer: current.organizer,
      start: checked.start as EventResource['start'],
      end: checked.end as EventResource['end'],
      iCalUID: current.iCalUID,
      sequence,
      reminders: checked.reminders as EventResource['reminders'],
      eventType: String(checked.eventType),
      ...(current.recurringEventId ? { recurringEventId: current.recurringEventId } : {}),
    };
    const saved = this.save(cal, next);
    if (current.recurrence?.length) this.dropStrandedExceptions(cal, saved);
    return saved;
  }

  /** Exceptions of a series that are no longer on its pattern (or whose series is gone) are deleted with it. */
  private dropStrandedExceptions(cal: Calendar, master: EventResource): void {
    const kept = master.status === 'cancelled' ? new Set<string>() : new Set(instanceIdsOf(cal, master));
    for (const [id, e] of cal.events) {
      if (e.resource.recurringEventId === master.id && e.resource.status !== 'cancelled' && !kept.has(id)) {
        this.save(cal, {
          ...e.resource,
          status: 'cancelled',
          etag: this.nextEtag(),
          updated: new Date().toISOString(),
        });
      }
    }
  }

  /** Full replace: writable fields absent from the body are cleared; no status means confirmed. */
  updateEvent(cal: Calendar, eventId: string, body: Fields, ifMatch?: string): EventResource {
    const current = this.getEvent(cal, eventId);
    this.checkIfMatch(current, ifMatch);
    const fields = pickWritable(body);
    delete fields.sequence;
    return this.rewrite(cal, current, fields, body.sequence);
  }

  patchEvent(cal: Calendar, eventId: string, body: Fields, ifMatch?: string): EventResource {
    const current = this.getEvent(cal, eventId);
    this.checkIfMatch(current, ifMatch);
    const base = pickWritable(current);
    delete base.sequence;
    const patch = pickWritable(body);
    delete patch.sequence;
    const merged = mergePatch(base, patch);
    for (const key of ['start', 'end'] as const) {
      if (patch[key] !== undefined) merged[key] = mergeTimePatch(base[key], patch[key]);
    }
    return this.rewrite(cal, current, merged, body.sequence ?? undefined);
  }

  /** Deleted events stay as tombstones (status cancelled), as in Google. */
  deleteEvent(cal: Calendar, eventId: string, ifMatch?: string): EventResource {
    const current = this.getEvent(cal, eventId);
    if (current.status === 'cancelled') throw new GoogleError(410, 'deleted', 'Resource has been deleted');
    this.checkIfMatch(current, ifMatch);
    const next: EventResource = {
      ...current,
      status: 'cancelled',
      etag: this.nextEtag(),
      updated: new Date().toISOString(),
    };
    const saved = this.save(cal, next);
    if (current.recurrence?.length) this.dropStrandedExceptions(cal, saved);
    return saved;
  }

  /** Removes every trace, so not even an incremental sync reports it (a purge). */
  hardDeleteEvent(cal: Calendar, eventId: string): void {
    if (!cal.events.delete(eventId)) throw notFound();
    cal.seq += 1;
    this.onCalendarChange?.(cal);
  }
}

/**
 * An instance's original start names it: a write keeps it, whether the body leaves it out or repeats
 * it, and a body naming another (or a date-time for an all-day series' date) is refused.
 * *Unconfirmed*: Google may instead ignore it; calsync always sends the instance's own.
 */
function keptOriginalStart(instance: EventResource, given: unknown, calendarZone: string): EventTime | undefined {
  const kept = instance.originalStartTime as EventTime | undefined;
  if (!kept || given === undefined || given === null) return kept ?? (given as EventTime | undefined);
  const time = given as EventTime;
  const same =
    kept.date !== undefined
      ? time.date === kept.date
      : time.dateTime !== undefined && instantOf(time, calendarZone) === instantOf(kept, calendarZone);
  if (!same) throw invalid('Invalid value for originalStartTime: it names another instance.', 'originalStartTime');
  return kept;
}

/** The instance an id names, as the series' expansion shows it (exceptions in place), if any. */
function virtualInstance(cal: Calendar, eventId: string): EventResource | undefined {
  const parsed = parseInstanceId(eventId);
  const master = parsed && cal.events.get(parsed.masterId)?.resource;
  if (!master?.recurrence?.length || master.status === 'cancelled') return undefined;
  return singleEventsOf(master, cal.timeZone, Date.now() + EXPANSION_HORIZON_DAYS * 86400000).find(
    (e) => e.id === eventId,
  );
}

function instanceIdsOf(cal: Calendar, master: EventResource): string[] {
  return singleEventsOf(master, cal.timeZone, Date.now() + EXPANSION_HORIZON_DAYS * 86400000).map((e) => e.id);
}
