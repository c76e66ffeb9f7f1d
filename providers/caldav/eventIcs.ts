import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import {
  addressProp,
  appointmentEvents,
  calendar,
  integerProp,
  stampProp,
  stringifyCalendar,
  textProp,
  yearsOf,
  zoneOf,
  type JCalComponent,
  type JCalProperty,
} from '../../lib/ical';
import type { AppointmentRecurrence } from '../../lib/types';
import type { EventContent, ObservedEvent } from '../types';

/**
 * calsync's events as CalDAV calendar object resources: one resource per UID holding the series
 * and its changed occurrences (RFC 4791 §4.1), written by lib/ical.ts (the feed's and the
 * invitations' writer) so every reader expands them the same way.
 */

const PRODID = '-//calsync//CalDAV//EN';

/** A tag's property: `calsyncId` → `X-CALSYNC-ID`, `calsyncOwner` → `X-CALSYNC-OWNER`. */
export function tagProperty(key: string): string {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(key)) throw new Error(`tag name ${JSON.stringify(key)} is not a property name`);
  return `x-${key.replace(/([a-z0-9])([A-Z])/g, '$1-$2')}`.toLowerCase();
}

/** The resource name of an event: calsync's deterministic id (base32hex, safe in a path) and `.ics`. */
export const resourceName = (eventId: string): string => `${encodeURIComponent(eventId)}.ics`;

/** The local date an occurrence of the series has in the series' zone. */
const localDate = (iso: string, zone: string) => DateTime.fromISO(iso, { setZone: true }).setZone(zone).toISODate()!;

/** EventContent's series back into the shape lib/recurrence and lib/ical expand (exceptions by local date). */
function recurrenceOf(content: EventContent): AppointmentRecurrence | undefined {
  const series = content.recurrence;
  if (!series) return undefined;
  return {
    rule: series.rule,
    exceptions: [
      ...series.cancelled.map((at) => ({ originalDate: localDate(at, content.timeZone), cancelled: true })),
      ...series.changed.map((c) => ({
        originalDate: localDate(c.originalStart, content.timeZone),
        start: c.start,
        end: c.end,
        ...(c.summary ? { title: c.summary } : {}),
      })),
    ],
  };
}

/**
 * The iCalendar text of one event: UID, the owner tags as X-CALSYNC-* properties, times in the
 * appointment's zone with its VTIMEZONE. Attendees are listed with SCHEDULE-AGENT=CLIENT and no
 * ORGANIZER, so a scheduling server (iCloud, Fastmail, Nextcloud; RFC 6638 §7.1) mails nobody:
 * clients get calsync's own invitation. A cancelled appointment kept visible is transparent.
 */
export function eventIcs(uid: string, content: EventContent, sequence: number): string {
  const times = {
    start: content.start,
    end: content.end,
    timeZone: content.timeZone,
    allDay: content.allDay,
    recurrence: recurrenceOf(content),
  };
  const zone = zoneOf(times);
  const common = (): JCalProperty[] => [
    textProp('uid', uid),
    stampProp(),
    integerProp('sequence', sequence),
    ...(content.location ? [textProp('location', content.location)] : []),
    textProp('description', content.description),
    textProp('transp', content.cancelled ? 'TRANSPARENT' : 'OPAQUE'),
    ...(content.tentative && !content.cancelled ? [textProp('status', 'TENTATIVE')] : []),
    ...(content.private ? [textProp('class', 'PRIVATE')] : []),
    ...Object.entries(content.tags).map(([key, value]) => textProp(tagProperty(key), value)),
    ...(content.attendees ?? []).map((a) =>
      addressProp('attendee', a.email, {
        ...(a.name ? { cn: a.name } : {}),
        role: 'REQ-PARTICIPANT',
        partstat: 'NEEDS-ACTION',
        'schedule-agent': 'CLIENT',
      }),
    ),
  ];
  const alarms: JCalComponent[] = (content.reminders ?? []).map((r) => [
    'valarm',
    [
      textProp('action', 'DISPLAY'),
      textProp('description', content.summary),
      ['trigger', {}, 'duration', `-PT${Math.max(0, Math.round(r.minutesBefore))}M`],
    ],
    [],
  ]);
  const events = appointmentEvents(times, (changed) => [
    textProp('summary', changed?.title ?? content.summary),
    ...common(),
  ]).map((e): JCalComponent => [e[0], e[1], [...e[2], ...alarms]]);
  const cal = calendar([textProp('prodid', PRODID)], events, zone ? [zone] : [], yearsOf(times));
  return stringifyCalendar(cal);
}

/** The VEVENTs of a resource, master first, with its VTIMEZONEs known to ical.js. */
export function parseResource(ics: string): { master: ICAL.Component; overrides: ICAL.Component[] } | undefined {
  let root: ICAL.Component;
  try {
    root = new ICAL.Component(ICAL.parse(ics));
  } catch {
    return undefined;
  }
  for (const tz of root.getAllSubcomponents('vtimezone')) {
    const tzid = tz.getFirstPropertyValue('tzid');
    if (typeof tzid === 'string' && !ICAL.TimezoneService.has(tzid)) ICAL.TimezoneService.register(tz);
  }
  const vevents = root.getAllSubcomponents('vevent');
  const master = vevents.find((v) => !v.hasProperty('recurrence-id')) ?? vevents[0];
  if (!master) return undefined;
  return { master, overrides: vevents.filter((v) => v !== master && v.hasProperty('recurrence-id')) };
}

const text = (v: ICAL.Component, name: string): string => {
  const value = v.getFirstPropertyValue(name);
  return value === null || value === undefined ? '' : String(value);
};

/** An ICAL.Time as epoch ms: a floating time (no zone) read as UTC. */
export const epochOf = (t: ICAL.Time): number => t.toJSDate().getTime();

/** What a VEVENT does to availability. */
export function showAsOf(v: ICAL.Component): ObservedEvent['showAs'] {
  if (text(v, 'transp').toUpperCase() === 'TRANSPARENT') return 'free';
  return text(v, 'status').toUpperCase() === 'TENTATIVE' ? 'tentative' : 'busy';
}

/** A resource calsync wrote, as reconciliation compares it (the master's times: a series' first occurrence). */
export function observedOf(remoteId: string, ics: string): ObservedEvent | undefined {
  const parsed = parseResource(ics);
  if (!parsed) return undefined;
  const v = parsed.master;
  const event = new ICAL.Event(v);
  const start = event.startDate;
  const end = event.endDate;
  if (!start || !end) return undefined;
  const modified = v.getFirstPropertyValue('last-modified') ?? v.getFirstPropertyValue('dtstamp');
  return {
    remoteId,
    tag: text(v, tagProperty('calsyncId')) || undefined,
    owner: text(v, tagProperty('calsyncOwner')) || undefined,
    updatedAt: modified instanceof ICAL.Time ? epochOf(modified) : 0,
    summary: text(v, 'summary'),
    description: text(v, 'description'),
    location: text(v, 'location'),
    start: epochOf(start),
    end: epochOf(end),
    ...(start.isDate ? { allDay: { start: start.toString(), end: end.toString() } } : {}),
    showAs: showAsOf(v),
  };
}

/** The SEQUENCE a resource carries (0 when none): a rewrite goes one higher, as RFC 5545 asks. */
export function sequenceOf(ics: string | undefined): number {
  if (!ics) return 0;
  const value = parseResource(ics)?.master.getFirstPropertyValue('sequence');
  return typeof value === 'number' && value >= 0 && value < 2147483647 ? value : 0;
}
