import { randomBytes } from 'node:crypto';
import { DateTime, IANAZone } from 'luxon';
import { findIana, findWindows } from 'windows-iana';
import { GraphError, bodyRead, invalidRequest } from './errors';

export type Fields = Record<string, unknown>;

export interface DateTimeTimeZone {
  dateTime: string;
  timeZone: string;
}

export interface EmailAddress {
  name: string;
  address: string;
}

/** One event as the store keeps it: writable fields as normalised, plus what Graph owns. */
export interface StoredEvent {
  id: string;
  calendarId: string;
  changeKey: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  transactionId: string | null;
  iCalUId: string;
  isOrganizer: boolean;
  /** The mailbox owner's answer to an invitation (`isOrganizer: false`): accepted, declined, ... */
  response?: string;
  organizer: { emailAddress: EmailAddress };
  /** Writable fields, start/end as local wall-clock time in their own zone. */
  fields: Fields;
  /** Single-value extended properties by normalised id. */
  extended: Map<string, { id: string; value: string }>;
}

/** Properties a client may write on an event. */
const WRITABLE = new Set([
  'subject',
  'body',
  'start',
  'end',
  'location',
  'locations',
  'showAs',
  'importance',
  'sensitivity',
  'isAllDay',
  'isReminderOn',
  'reminderMinutesBeforeStart',
  'categories',
  'attendees',
  'recurrence',
  'responseRequested',
  'allowNewTimeProposals',
  'isOnlineMeeting',
  'onlineMeetingProvider',
  'hideAttendees',
  'originalStartTimeZone',
  'originalEndTimeZone',
  'organizer',
  'singleValueExtendedProperties',
  'multiValueExtendedProperties',
]);
/** Properties Graph owns: accepted in a body and ignored. */
const READ_ONLY = new Set([
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  '@odata.etag',
  '@odata.type',
  '@odata.context',
  'iCalUId',
  'uid',
  'isCancelled',
  'isOrganizer',
  'webLink',
  'type',
  'seriesMasterId',
  'responseStatus',
  'bodyPreview',
  'hasAttachments',
  'isDraft',
  'onlineMeeting',
  'onlineMeetingUrl',
  'transactionId',
  'occurrenceId',
]);

const SHOW_AS = ['free', 'tentative', 'busy', 'oof', 'workingElsewhere', 'unknown'];
const IMPORTANCE = ['low', 'normal', 'high'];
const SENSITIVITY = ['normal', 'personal', 'private', 'confidential'];
const BODY_TYPES = ['text', 'html'];

const isPlainObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);

export const randomB64 = (bytes: number): string => randomBytes(bytes).toString('base64url');

/** Graph ids are long opaque base64 strings starting with the mailbox GUID's encoding. */
export const newEventId = (): string => `AAMkAG${randomB64(105)}AAA=`;
export const newCalendarId = (): string => `AAMkAG${randomB64(75)}AAA=`;
export const newChangeKey = (): string => `DwAAABYAAAA${randomB64(21)}`;
export const newICalUId = (): string =>
  `040000008200E00074C5B7101A82E00800000000${randomBytes(28).toString('hex').toUpperCase()}`;

/**
 * The IANA names Graph takes besides Windows names, as listed on the dateTimeTimeZone page
 * (https://learn.microsoft.com/graph/api/resources/datetimetimezone); "Europe/Kyiv (Kiev)" and the
 * like count under both names. Anything else (Europe/Madrid, America/Toronto) is refused.
 */
const GRAPH_IANA_ZONES = new Set([
  'Etc/GMT+12',
  'Etc/GMT+11',
  'Pacific/Honolulu',
  'America/Anchorage',
  'America/Santa_Isabel',
  'America/Los_Angeles',
  'America/Phoenix',
  'America/Chihuahua',
  'America/Denver',
  'America/Guatemala',
  'America/Chicago',
  'America/Mexico_City',
  'America/Regina',
  'America/Bogota',
  'America/New_York',
  'America/Indiana/Indianapolis',
  'America/Caracas',
  'America/Asuncion',
  'America/Halifax',
  'America/Cuiaba',
  'America/La_Paz',
  'America/Santiago',
  'America/St_Johns',
  'America/Sao_Paulo',
  'America/Argentina/Buenos_Aires',
  'America/Cayenne',
  'America/Godthab',
  'America/Montevideo',
  'America/Bahia',
  'Etc/GMT+2',
  'Atlantic/Azores',
  'Atlantic/Cape_Verde',
  'Africa/Casablanca',
  'Etc/GMT',
  'Europe/London',
  'Atlantic/Reykjavik',
  'Europe/Berlin',
  'Europe/Budapest',
  'Europe/Paris',
  'Europe/Warsaw',
  'Africa/Lagos',
  'Africa/Windhoek',
  'Europe/Bucharest',
  'Asia/Beirut',
  'Africa/Cairo',
  'Asia/Damascus',
  'Africa/Johannesburg',
  'Europe/Kyiv',
  'Europe/Kiev',
  'Europe/Istanbul',
  'Asia/Jerusalem',
  'Asia/Amman',
  'Asia/Baghdad',
  'Europe/Kaliningrad',
  'Asia/Riyadh',
  'Africa/Nairobi',
  'Asia/Tehran',
  'Asia/Dubai',
  'Asia/Baku',
  'Europe/Moscow',
  'Indian/Mauritius',
  'Asia/Tbilisi',
  'Asia/Yerevan',
  'Asia/Kabul',
  'Asia/Karachi',
  'Asia/Tashkent',
  'Asia/Kolkata',
  'Asia/Colombo',
  'Asia/Kathmandu',
  'Asia/Astana',
  'Asia/Almaty',
  'Asia/Dhaka',
  'Asia/Yekaterinburg',
  'Asia/Yangon',
  'Asia/Rangoon',
  'Asia/Bangkok',
  'Asia/Novosibirsk',
  'Asia/Shanghai',
  'Asia/Krasnoyarsk',
  'Asia/Singapore',
  'Australia/Perth',
  'Asia/Taipei',
  'Asia/Ulaanbaatar',
  'Asia/Irkutsk',
  'Asia/Tokyo',
  'Asia/Seoul',
  'Australia/Adelaide',
  'Australia/Darwin',
  'Australia/Brisbane',
  'Australia/Sydney',
  'Pacific/Port_Moresby',
  'Australia/Hobart',
  'Asia/Yakutsk',
  'Pacific/Guadalcanal',
  'Asia/Vladivostok',
  'Pacific/Auckland',
  'Etc/GMT-12',
  'Pacific/Fiji',
  'Asia/Magadan',
  'Pacific/Tongatapu',
  'Pacific/Apia',
  'Pacific/Kiritimati',
]);

/**
 * An IANA zone for a Graph timeZone value, or undefined when Graph would reject it: any Windows
 * zone name (CLDR's windowsZones table, territory 001) or a listed IANA name (above).
 */
export function zoneOf(timeZone: string): string | undefined {
  const windows = findIana(timeZone)[0];
  if (windows) return windows;
  return GRAPH_IANA_ZONES.has(timeZone) && IANAZone.isValidZone(timeZone) ? timeZone : undefined;
}

/** The Windows name Outlook stores for an IANA zone (an event made in Outlook carries it), or the zone itself. */
export function windowsNameOf(timeZone: string): string {
  return findWindows(timeZone)[0] ?? timeZone;
}

const unsupportedZone = (zone: unknown): GraphError =>
  new GraphError(
    400,
    'TimeZoneNotSupportedException',
    `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${String(zone)}'.`,
  );

/** Graph's property-id grammar for single-value extended properties. */
const PROPERTY_ID =
  /^(String|Integer|Boolean|SystemTime|Long|Double|Binary|Guid)\s+\{([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}\s+(Name|Id)\s+(\S.*)$/i;

/** Canonical form of an extended property id (type and GUID are case-insensitive). */
export function canonicalPropertyId(id: unknown): string {
  const match = typeof id === 'string' ? PROPERTY_ID.exec(id.trim()) : null;
  if (!match)
    throw new GraphError(400, 'ErrorInvalidProperty', `The extended property id '${String(id)}' is not valid.`);
  const type = match[1]!.charAt(0).toUpperCase() + match[1]!.slice(1).toLowerCase();
  const kind = match[3]!.toLowerCase() === 'name' ? 'Name' : 'Id';
  return `${type} {${match[2]!.toLowerCase()}} ${kind} ${match[4]}`;
}

const LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?$/;
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** A dateTimeTimeZone as stored: wall-clock time in the given zone, Graph's 7 fractional digits. */
function normaliseTime(raw: unknown, name: string): DateTimeTimeZone {
  if (!isPlainObject(raw) || typeof raw.dateTime !== 'string') {
    throw bodyRead(`Cannot read the value of property '${name}': a dateTimeTimeZone with a dateTime is expected.`);
  }
  const timeZone = raw.timeZone === undefined || raw.timeZone === null ? 'UTC' : raw.timeZone;
  const zone = typeof timeZone === 'string' ? zoneOf(timeZone) : undefined;
  if (!zone) throw unsupportedZone(timeZone);
  let local: DateTime;
  if (LOCAL.test(raw.dateTime)) {
    local = DateTime.fromISO(raw.dateTime.replace(/(\.\d{3})\d+$/, '$1'), { zone });
  } else if (WITH_OFFSET.test(raw.dateTime)) {
    local = DateTime.fromISO(raw.dateTime.replace(/(\.\d{3})\d+/, '$1'), { setZone: true }).setZone(zone);
  } else {
    throw bodyRead(`Cannot convert the literal '${raw.dateTime}' to the expected type 'Edm.DateTimeOffset'.`);
  }
  if (!local.isValid)
    throw bodyRead(`Cannot convert the literal '${raw.dateTime}' to the expected type 'Edm.DateTimeOffset'.`);
  return { dateTime: `${local.toFormat("yyyy-MM-dd'T'HH:mm:ss")}.0000000`, timeZone: timeZone as string };
}

export function instantOf(time: DateTimeTimeZone): DateTime {
  return DateTime.fromISO(time.dateTime.slice(0, 19), { zone: zoneOf(time.timeZone) ?? 'UTC' });
}

function checkEnum(value: unknown, allowed: string[], type: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw bodyRead(`Cannot convert the literal '${String(value)}' to the expected type 'microsoft.graph.${type}'.`);
  }
}

export interface ValidatedWrite {
  fields: Fields;
  extended: Array<{ id: string; value: string }>;
}

/**
 * Checks a create or PATCH body the way OData does: unknown properties and bad enum literals are
 * 400s, Graph-owned properties are ignored. Returns the writable fields, times normalised.
 */
export function validateEventBody(body: unknown): ValidatedWrite {
  if (!isPlainObject(body)) throw bodyRead('The request body must be a JSON object.');
  const fields: Fields = {};
  let extended: Array<{ id: string; value: string }> = [];
  for (const [key, value] of Object.entries(body)) {
    if (READ_ONLY.has(key) || key.startsWith('@odata.') || key.includes('@odata.')) continue;
    if (!WRITABLE.has(key)) {
      throw bodyRead(
        `The property '${key}' does not exist on type 'microsoft.graph.event'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
      );
    }
    if (key === 'singleValueExtendedProperties') {
      if (!Array.isArray(value))
        throw bodyRead("Cannot read the value of property 'singleValueExtendedProperties': an array is expected.");
      extended = value.map((p) => {
        if (!isPlainObject(p) || typeof p.value !== 'string') {
          throw bodyRead('A singleValueLegacyExtendedProperty needs an id and a string value.');
        }
        return { id: canonicalPropertyId(p.id), value: p.value };
      });
      continue;
    }
    fields[key] = value;
  }
  if (fields.subject !== undefined && fields.subject !== null && typeof fields.subject !== 'string') {
    throw bodyRead(`Cannot convert a value to target type 'Edm.String' for property 'subject'.`);
  }
  if (fields.body !== undefined && fields.body !== null) {
    if (!isPlainObject(fields.body))
      throw bodyRead("Cannot read the value of property 'body': an itemBody is expected.");
    checkEnum(fields.body.contentType, BODY_TYPES, 'bodyType');
    fields.body = { contentType: fields.body.contentType ?? 'text', content: String(fields.body.content ?? '') };
  }
  if (fields.location !== undefined && fields.location !== null && !isPlainObject(fields.location)) {
    throw bodyRead("Cannot read the value of property 'location': a location is expected.");
  }
  checkEnum(fields.showAs, SHOW_AS, 'freeBusyStatus');
  checkEnum(fields.importance, IMPORTANCE, 'importance');
  checkEnum(fields.sensitivity, SENSITIVITY, 'sensitivity');
  if (fields.attendees !== undefined && fields.attendees !== null && !Array.isArray(fields.attendees)) {
    throw bodyRead("Cannot read the value of property 'attendees': an array is expected.");
  }
  for (const key of ['start', 'end'] as const) {
    if (fields[key] !== undefined) fields[key] = normaliseTime(fields[key], key);
  }
  return { fields, extended };
}

/** Start and end present and in order: checked after a PATCH is merged too. */
export function checkTimes(fields: Fields): void {
  const start = fields.start as DateTimeTimeZone | undefined;
  const end = fields.end as DateTimeTimeZone | undefined;
  if (!start || !end)
    throw invalidRequest("Your request can't be completed. An event needs both a start and an end time.");
  if (instantOf(end) < instantOf(start)) {
    throw invalidRequest("Your request can't be completed. The end time of an event can't be before its start time.");
  }
  const midnight = (t: DateTimeTimeZone) => t.dateTime.slice(11, 19) === '00:00:00';
  if (fields.isAllDay === true && (!midnight(start) || !midnight(end) || instantOf(end) <= instantOf(start))) {
    throw invalidRequest(
      "Your request can't be completed. An all-day event must start and end at midnight, at least one day apart.",
    );
  }
}

/** The wall-clock time in `zone` (Graph answers in UTC unless `Prefer: outlook.timezone` says otherwise). */
function timeIn(time: DateTimeTimeZone, preferZone: string | undefined): DateTimeTimeZone {
  if (preferZone === undefined) return time;
  const zone = zoneOf(preferZone) ?? 'UTC';
  const local = instantOf(time).setZone(zone);
  return { dateTime: `${local.toFormat("yyyy-MM-dd'T'HH:mm:ss")}.0000000`, timeZone: preferZone };
}

const textPreview = (body: Fields | undefined): string => {
  const content = typeof body?.content === 'string' ? body.content : '';
  return (body?.contentType === 'html' ? content.replace(/<[^>]*>/g, ' ') : content)
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 255);
};

export interface RenderOptions {
  /** Zone of start/end in the answer; undefined keeps each event's own zone (inspection). */
  timeZone?: string;
  /** Extended properties to include ($expand); undefined includes none. */
  expandIds?: Set<string>;
  select?: Set<string>;
  webBase: string;
}

/** The event resource as Graph returns it. */
export function renderEvent(e: StoredEvent, opts: RenderOptions): Fields {
  const f = e.fields;
  const start = f.start as DateTimeTimeZone;
  const end = f.end as DateTimeTimeZone;
  const location = {
    displayName: '',
    locationType: 'default',
    uniqueIdType: 'unknown',
    address: {},
    coordinates: {},
    ...((f.location as Fields | undefined) ?? {}),
  };
  const full: Fields = {
    '@odata.etag': `W/"${e.changeKey}"`,
    id: e.id,
    createdDateTime: e.createdDateTime,
    lastModifiedDateTime: e.lastModifiedDateTime,
    changeKey: e.changeKey,
    categories: f.categories ?? [],
    transactionId: e.transactionId,
    originalStartTimeZone: f.originalStartTimeZone ?? start.timeZone,
    originalEndTimeZone: f.originalEndTimeZone ?? end.timeZone,
    iCalUId: e.iCalUId,
    uid: e.iCalUId,
    reminderMinutesBeforeStart: f.reminderMinutesBeforeStart ?? 15,
    isReminderOn: f.isReminderOn ?? true,
    hasAttachments: false,
    subject: f.subject ?? '',
    bodyPreview: textPreview(f.body as Fields | undefined),
    importance: f.importance ?? 'normal',
    sensitivity: f.sensitivity ?? 'normal',
    isAllDay: f.isAllDay ?? false,
    isCancelled: false,
    isOrganizer: e.isOrganizer,
    responseRequested: f.responseRequested ?? true,
    seriesMasterId: null,
    showAs: f.showAs ?? 'busy',
    type: 'singleInstance',
    webLink: `${opts.webBase}/owa/?itemid=${encodeURIComponent(e.id)}&exvsurl=1&path=/calendar/item`,
    onlineMeetingUrl: null,
    isOnlineMeeting: f.isOnlineMeeting ?? false,
    onlineMeetingProvider: f.onlineMeetingProvider ?? 'unknown',
    allowNewTimeProposals: f.allowNewTimeProposals ?? true,
    isDraft: false,
    hideAttendees: f.hideAttendees ?? false,
    responseStatus: {
      response: e.isOrganizer ? 'organizer' : (e.response ?? 'notResponded'),
      time: '0001-01-01T00:00:00Z',
    },
    body: f.body ?? { contentType: 'html', content: '' },
    start: timeIn(start, opts.timeZone),
    end: timeIn(end, opts.timeZone),
    location,
    locations: f.locations ?? (location.displayName ? [location] : []),
    recurrence: f.recurrence ?? null,
    attendees: f.attendees ?? [],
    organizer: e.organizer,
    onlineMeeting: null,
  };
  if (opts.expandIds) {
    full.singleValueExtendedProperties = [...e.extended.entries()]
      .filter(([key]) => opts.expandIds!.has(key))
      .map(([, p]) => ({ id: p.id, value: p.value }));
  }
  if (!opts.select) return full;
  const picked: Fields = { '@odata.etag': full['@odata.etag'], id: e.id };
  for (const key of opts.select) if (key in full) picked[key] = full[key];
  if (full.singleValueExtendedProperties) picked.singleValueExtendedProperties = full.singleValueExtendedProperties;
  return picked;
}

/** `Prefer: outlook.timezone="Europe/Madrid"` → the zone, if it is one Graph knows. */
export function preferredZone(prefer: string | undefined): string | undefined {
  const match = prefer ? /outlook\.timezone\s*=\s*"([^"]+)"/i.exec(prefer) : null;
  if (!match) return undefined;
  if (!zoneOf(match[1]!)) throw unsupportedZone(match[1]);
  return match[1];
}
