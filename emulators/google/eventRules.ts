import { randomBytes } from 'node:crypto';
import { DateTime, IANAZone } from 'luxon';
import { GoogleError, invalid, required } from './errors';

export interface EventTime {
  date?: string;
  dateTime?: string;
  timeZone?: string;
}

export interface Person {
  email: string;
  displayName?: string;
  self?: boolean;
}

/** The event resource as Google returns it; unknown writable fields pass through. */
export interface EventResource {
  kind: 'calendar#event';
  id: string;
  etag: string;
  status: string;
  htmlLink: string;
  created: string;
  updated: string;
  summary?: string;
  description?: string;
  location?: string;
  creator: Person;
  organizer: Person;
  start: EventTime;
  end: EventTime;
  recurrence?: string[];
  transparency?: string;
  visibility?: string;
  iCalUID: string;
  sequence: number;
  attendees?: Array<Record<string, unknown>>;
  reminders: { useDefault: boolean; overrides?: Array<{ method: string; minutes: number }> };
  extendedProperties?: { private?: Record<string, string>; shared?: Record<string, string> };
  eventType: string;
  [field: string]: unknown;
}

export type Fields = Record<string, unknown>;

/** Fields a client may set; everything else in a request body is ignored, as Google does. */
export const WRITABLE_FIELDS = [
  'summary',
  'description',
  'location',
  'colorId',
  'start',
  'end',
  'endTimeUnspecified',
  'recurrence',
  'originalStartTime',
  'transparency',
  'visibility',
  'attendees',
  'attendeesOmitted',
  'guestsCanInviteOthers',
  'guestsCanModify',
  'guestsCanSeeOtherGuests',
  'anyoneCanAddSelf',
  'reminders',
  'extendedProperties',
  'source',
  'status',
  'sequence',
  'conferenceData',
  'attachments',
  'locked',
  'privateCopy',
  'eventType',
  'workingLocationProperties',
  'outOfOfficeProperties',
  'focusTimeProperties',
] as const;

const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';
const EXT_KEY_MAX = 44;
const EXT_VALUE_MAX = 1024;

export function isBase32HexId(id: unknown): id is string {
  return typeof id === 'string' && /^[a-v0-9]{5,1024}$/.test(id);
}

export function randomBase32Hex(length = 26): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += BASE32HEX[b % 32];
  return out;
}

export function pickWritable(body: Fields): Fields {
  const out: Fields = {};
  for (const key of WRITABLE_FIELDS) if (body[key] !== undefined) out[key] = body[key];
  return out;
}

const isPlainObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Patch semantics: objects merge recursively, arrays are replaced wholesale and
 * null clears a field (Google's patch rules, which also keep extendedProperties keys
 * not named in the patch).
 */
export function mergePatch(target: Fields, patch: Fields): Fields {
  const out: Fields = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (isPlainObject(value) && isPlainObject(out[key])) out[key] = mergePatch(out[key] as Fields, value);
    else out[key] = value;
  }
  return out;
}

/** Switching an event between all-day and timed must not leave the other form behind. */
export function mergeTimePatch(current: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch) || !isPlainObject(current)) return patch;
  const base = { ...current };
  if (patch.date !== undefined && patch.date !== null) delete base.dateTime;
  if (patch.dateTime !== undefined && patch.dateTime !== null) delete base.date;
  return mergePatch(base, patch);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isValidZone(zone: unknown): zone is string {
  return typeof zone === 'string' && IANAZone.isValidZone(zone);
}

/** Instant of an event boundary in ms; all-day dates count from midnight in the calendar's zone. */
export function instantOf(time: EventTime, calendarZone: string): number {
  if (time.dateTime !== undefined) {
    return DateTime.fromISO(time.dateTime, { zone: time.timeZone ?? calendarZone }).toMillis();
  }
  return DateTime.fromISO(time.date ?? '', { zone: time.timeZone ?? calendarZone }).toMillis();
}

export function parseRfc3339(value: string): number | undefined {
  if (!RFC3339.test(value) || !/(Z|[+-]\d{2}:\d{2})$/i.test(value)) return undefined;
  const ms = DateTime.fromISO(value).toMillis();
  return Number.isNaN(ms) ? undefined : ms;
}

function validateTime(raw: unknown, name: 'start' | 'end'): EventTime {
  const label = name === 'start' ? 'start' : 'end';
  if (!isPlainObject(raw) || (raw.date === undefined && raw.dateTime === undefined)) {
    throw required(`Missing ${label} time.`, name);
  }
  if (raw.date !== undefined && raw.dateTime !== undefined) {
    throw invalid(`Invalid ${label} time.`, name);
  }
  const time: EventTime = {};
  if (raw.timeZone !== undefined) {
    if (!isValidZone(raw.timeZone)) throw invalid(`Invalid time zone definition for ${label} time.`, name);
    time.timeZone = raw.timeZone;
  }
  if (raw.dateTime !== undefined) {
    const value = raw.dateTime;
    if (typeof value !== 'string' || !RFC3339.test(value) || !DateTime.fromISO(value).isValid) {
      throw invalid(`Invalid ${label} time.`, `${name}.dateTime`);
    }
    const hasOffset = /(Z|[+-]\d{2}:\d{2})$/i.test(value);
    if (!hasOffset && time.timeZone === undefined) {
      throw required(`Missing time zone definition for ${label} time.`, `${name}.timeZone`);
    }
    time.dateTime = value;
  } else {
    const value = raw.date;
    if (typeof value !== 'string' || !DATE.test(value) || !DateTime.fromISO(value).isValid) {
      throw invalid(`Invalid ${label} time.`, `${name}.date`);
    }
    time.date = value;
  }
  return time;
}

function validateReminders(raw: unknown): EventResource['reminders'] {
  if (raw === undefined) return { useDefault: true };
  if (!isPlainObject(raw)) throw invalid('Invalid reminders.', 'reminders');
  const overrides = raw.overrides;
  const useDefault = raw.useDefault === true;
  if (overrides === undefined) return { useDefault };
  if (!Array.isArray(overrides)) throw invalid('Invalid reminders.', 'reminders.overrides');
  if (useDefault && overrides.length > 0) {
    throw new GoogleError(
      400,
      'cannotUseDefaultRemindersAndSpecifyOverride',
      'Cannot specify both default reminders and overrides at the same time.',
    );
  }
  if (overrides.length > 5) throw invalid('Too many reminders.', 'reminders.overrides');
  const checked = overrides.map((o: unknown) => {
    if (!isPlainObject(o)) throw invalid('Invalid reminder.', 'reminders.overrides');
    if (o.method !== 'email' && o.method !== 'popup') {
      throw invalid('Invalid reminder method value.', 'reminders.overrides.method');
    }
    const minutes = o.minutes;
    if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 0 || minutes > 40320) {
      throw invalid('Invalid reminder minutes value.', 'reminders.overrides.minutes');
    }
    return { method: o.method, minutes };
  });
  return { useDefault, overrides: checked };
}

function validateRecurrence(raw: unknown): string[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw invalid('Invalid recurrence rule.', 'recurrence');
  for (const line of raw) {
    const ok =
      typeof line === 'string' &&
      (/^(RRULE|EXRULE):/i.test(line) || /^(RDATE|EXDATE)[;:]/i.test(line)) &&
      (!/^(RRULE|EXRULE):/i.test(line) || /FREQ=/i.test(line));
    if (!ok) throw invalid('Invalid recurrence rule.', 'recurrence');
  }
  return raw as string[];
}

function validateExtendedProperties(raw: unknown): EventResource['extendedProperties'] {
  if (raw === undefined) return undefined;
  if (!isPlainObject(raw)) throw invalid('Invalid extended properties.', 'extendedProperties');
  const out: NonNullable<EventResource['extendedProperties']> = {};
  for (const scope of ['private', 'shared'] as const) {
    const props = raw[scope];
    if (props === undefined || props === null) continue;
    if (!isPlainObject(props)) throw invalid('Invalid extended properties.', `extendedProperties.${scope}`);
    const kept: Record<string, string> = {};
    for (const [key, value] of Object.entries(props)) {
      // Oversized keys vanish and values get cut rather than failing (see PROVIDER-FACTS).
      if (key.length > EXT_KEY_MAX || value === null || value === undefined) continue;
      kept[key] = String(value).slice(0, EXT_VALUE_MAX);
    }
    out[scope] = kept;
  }
  return out;
}

function validateAttendees(raw: unknown, ownerEmail: string, organizerEmail: string): EventResource['attendees'] {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw invalid('Invalid attendees.', 'attendees');
  return raw.map((a: unknown) => {
    if (!isPlainObject(a)) throw invalid('Invalid attendee.', 'attendees');
    if (typeof a.email !== 'string' || a.email === '') throw required('Missing attendee email.', 'attendees.email');
    if (!/^[^@\s]+@[^@\s]+$/.test(a.email)) throw invalid('Invalid attendee email.', 'attendees.email');
    const status = a.responseStatus ?? 'needsAction';
    if (!['needsAction', 'declined', 'tentative', 'accepted'].includes(String(status))) {
      throw invalid('Invalid attendee response status.', 'attendees.responseStatus');
    }
    const out: Record<string, unknown> = { ...a, responseStatus: status };
    const email = a.email.toLowerCase();
    if (email === organizerEmail.toLowerCase()) out.organizer = true;
    if (email === ownerEmail.toLowerCase()) out.self = true;
    return out;
  });
}

function oneOf(value: unknown, allowed: string[], field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !allowed.includes(value)) throw invalid(`Invalid ${field} value.`, field);
  return value;
}

/**
 * Checks and normalises the writable part of an event. Returns the fields to
 * store; the caller owns id, etag, timestamps and sequence.
 */
export function validateWritable(
  fields: Fields,
  ctx: { ownerEmail: string; organizerEmail: string; calendarZone: string },
): Fields {
  const start = validateTime(fields.start, 'start');
  const end = validateTime(fields.end, 'end');
  if ((start.date === undefined) !== (end.date === undefined)) {
    throw invalid('Start and end times must either both be date or both be dateTime.', 'end');
  }
  const startMs = instantOf(start, ctx.calendarZone);
  const endMs = instantOf(end, ctx.calendarZone);
  // Timed events may last zero minutes; all-day events need at least one day.
  if (endMs < startMs || (start.date !== undefined && endMs === startMs)) {
    throw new GoogleError(400, 'timeRangeEmpty', 'The specified time range is empty.', 'global', {
      location: 'end',
      locationType: 'parameter',
    });
  }
  const recurrence = validateRecurrence(fields.recurrence);
  if (recurrence && recurrence.length > 0 && start.dateTime !== undefined && start.timeZone === undefined) {
    throw invalid('Missing time zone definition for start time.', 'start.timeZone');
  }
  const out: Fields = { ...fields, start, end };
  out.status = oneOf(fields.status, ['confirmed', 'tentative', 'cancelled'], 'status') ?? 'confirmed';
  const transparency = oneOf(fields.transparency, ['opaque', 'transparent'], 'transparency');
  const visibility = oneOf(fields.visibility, ['default', 'public', 'private', 'confidential'], 'visibility');
  const assign = (key: string, value: unknown): void => {
    if (value === undefined) delete out[key];
    else out[key] = value;
  };
  assign('transparency', transparency);
  assign('visibility', visibility);
  assign('recurrence', recurrence);
  assign('reminders', validateReminders(fields.reminders));
  assign('extendedProperties', validateExtendedProperties(fields.extendedProperties));
  assign('attendees', validateAttendees(fields.attendees, ctx.ownerEmail, ctx.organizerEmail));
  for (const key of ['summary', 'description', 'location'] as const) {
    const value = fields[key];
    if (value !== undefined && typeof value !== 'string') throw invalid(`Invalid ${key} value.`, key);
  }
  if (
    fields.sequence !== undefined &&
    (typeof fields.sequence !== 'number' || !Number.isInteger(fields.sequence) || fields.sequence < 0)
  ) {
    throw invalid('Invalid sequence value.', 'sequence');
  }
  out.eventType = typeof fields.eventType === 'string' ? fields.eventType : 'default';
  return out;
}

export function timeChanged(a: Fields, b: Fields): boolean {
  return (
    JSON.stringify([a.start, a.end, a.recurrence ?? null]) !== JSON.stringify([b.start, b.end, b.recurrence ?? null])
  );
}
