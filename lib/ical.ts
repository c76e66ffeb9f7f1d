import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { icalSeries, seriesEnd } from './recurrence';
import type { DesiredAppointment } from './types';
import { knownZone, vtimezone } from './vtimezone';

/**
 * The one iCalendar serialiser every calsync writer uses (staff feeds, client invitations, CalDAV):
 * events are built as jCal (RFC 7265) and written by ical.js's stringifier (Thunderbird's), which
 * escapes every TEXT value (RFC 5545 §3.3.11: `\` `;` `,` newlines), quotes parameter values that
 * need it and encodes `"`, `^` and line breaks in them (RFC 6868 `^'` `^^` `^n`), and folds lines.
 * Control characters other than tab (and line breaks, which escaping keeps) never reach the output.
 */

export type Params = Record<string, string>;
export type JCalProperty = [string, Params, string, ...unknown[]];
export type JCalComponent = [string, JCalProperty[], JCalComponent[]];

// RFC 7986 NAME and the de-facto X-WR-* are TEXT: known to ical.js so their values are escaped
// (an unknown property would be written raw, and a line break in a staff name would end the line).
const design = ICAL.design.icalendar.property as Record<string, { defaultType: string }>;
for (const name of ['name', 'x-wr-calname', 'x-wr-caldesc', 'x-wr-timezone']) design[name] ??= { defaultType: 'text' };
design['refresh-interval'] ??= { defaultType: 'duration' };

const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f]/g;
const CONTROL_IN_PARAM = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** A text value as iCalendar may carry it: line breaks as `\n` (escaped later), no other control characters. */
export function cleanText(value: string): string {
  return value.replace(/\r\n?/g, '\n').replace(CONTROL_IN_TEXT, '');
}

/** A parameter value (CN=…): line breaks survive as RFC 6868 `^n`, other control characters are dropped. */
export function cleanParam(value: string): string {
  return value.replace(/\r\n?/g, '\n').replace(CONTROL_IN_PARAM, '').trim();
}

const cleanParams = (params: Params): Params =>
  Object.fromEntries(Object.entries(params).map(([k, v]) => [k, cleanParam(v)]));

/** A TEXT property. */
export function textProp(name: string, value: string, params: Params = {}): JCalProperty {
  return [name, cleanParams(params), 'text', cleanText(value)];
}

/** A CAL-ADDRESS property (ORGANIZER, ATTENDEE): the address as a mailto: URI, CN and friends as parameters. */
export function addressProp(name: string, email: string, params: Params = {}): JCalProperty {
  return [name, cleanParams(params), 'cal-address', `mailto:${cleanParam(email)}`];
}

export function integerProp(name: string, value: number): JCalProperty {
  // RFC 5545 INTEGER is 32-bit signed: a value outside it would be read as another number.
  if (!Number.isInteger(value) || value < 0 || value > 2147483647)
    throw new Error(`${name}: ${value} is not a 32-bit INTEGER`);
  return [name, {}, 'integer', value];
}

/** A DATE-TIME at an instant: local time with TZID in `zone`, or UTC (`Z`) without one. */
export function dateTimeProp(name: string, at: DateTime, zone: string | null): JCalProperty {
  return zone
    ? [name, { tzid: zone }, 'date-time', at.setZone(zone).toFormat("yyyy-MM-dd'T'HH:mm:ss")]
    : [name, {}, 'date-time', at.toUTC().toFormat("yyyy-MM-dd'T'HH:mm:ss'Z'")];
}

/** Several DATE-TIMEs in one property (EXDATE), same rules as dateTimeProp. */
export function dateTimesProp(name: string, at: DateTime[], zone: string | null): JCalProperty {
  return zone
    ? [name, { tzid: zone }, 'date-time', ...at.map((d) => d.setZone(zone).toFormat("yyyy-MM-dd'T'HH:mm:ss"))]
    : [name, {}, 'date-time', ...at.map((d) => d.toUTC().toFormat("yyyy-MM-dd'T'HH:mm:ss'Z'"))];
}

/** A DATE (all-day): the date the time has in its own zone. */
export function datesProp(name: string, at: DateTime[]): JCalProperty {
  return [name, {}, 'date', ...at.map((d) => d.toFormat('yyyy-MM-dd'))];
}

/** An RRULE, as ical.js reads it (the API checked it with ical.js too). */
export function ruleProp(rule: string): JCalProperty {
  return ['rrule', {}, 'recur', ICAL.Recur.fromString(rule.replace(/^RRULE:/i, '')).toJSON()];
}

/** DTSTAMP now (or at `stamp`), in UTC. */
export function stampProp(stamp: Date = new Date()): JCalProperty {
  return ['dtstamp', {}, 'date-time', stamp.toISOString().replace(/\.\d{3}Z$/, 'Z')];
}

/** One event's times: start, end and, for a changed occurrence of a series, the occurrence it replaces. */
export interface EventTimes {
  start: DateTime;
  end: DateTime;
  recurrenceId?: DateTime;
}

/**
 * DTSTART, DTEND (and RECURRENCE-ID) of one VEVENT. All-day: VALUE=DATE, the dates the times have
 * in their own zone (the appointment's). Otherwise local times in `zone` (TZID), or UTC without one.
 */
export function timeProps(times: EventTimes, allDay: boolean | undefined, zone: string | null): JCalProperty[] {
  const one = (name: string, at: DateTime) => (allDay ? datesProp(name, [at]) : dateTimeProp(name, at, zone));
  return [
    one('dtstart', times.start),
    one('dtend', times.end),
    ...(times.recurrenceId ? [one('recurrence-id', times.recurrenceId)] : []),
  ];
}

/**
 * A VCALENDAR with the VTIMEZONE of every TZID its events use, built from the runtime's tzdata for
 * the years `years` spans (DTSTART of the first event to the last time any event reaches).
 */
export function calendar(
  props: JCalProperty[],
  events: JCalComponent[],
  zones: Iterable<string>,
  years: { from: number; to: number },
): JCalComponent {
  const blocks = [...new Set(zones)]
    .map((z) => vtimezone(z, years.from, years.to))
    .filter((b): b is JCalComponent => b !== undefined);
  return ['vcalendar', [['version', {}, 'text', '2.0'], ...props], [...blocks, ...events]];
}

/** The iCalendar text of a VCALENDAR: CRLF lines, folded, every value escaped by ical.js. */
export function stringifyCalendar(cal: JCalComponent): string {
  return `${new ICAL.Component(cal as unknown as unknown[]).toString()}\r\n`;
}

/** Years a series without an end is given VTIMEZONE transitions for, past its first occurrence. */
const ENDLESS_SERIES_YEARS = 10;

type Times = Pick<DesiredAppointment, 'start' | 'end' | 'timeZone' | 'recurrence' | 'allDay'>;

/** The calendar years an appointment (a series: up to its last occurrence) spans. */
export function yearsOf(desired: Times): { from: number; to: number } {
  const from = DateTime.fromISO(desired.start, { zone: 'utc' }).year - 1;
  const end = seriesEnd(desired);
  const to = end
    ? DateTime.fromISO(end, { zone: 'utc' }).year + 1
    : Math.max(from, DateTime.utc().year) + ENDLESS_SERIES_YEARS;
  return { from, to };
}

/** The zone an appointment's times are written in: its own (the series' rule is expanded there), or UTC when the runtime does not know it. */
export function zoneOf(desired: Pick<DesiredAppointment, 'timeZone'>): string | null {
  return knownZone(desired.timeZone) ? desired.timeZone : null;
}

/**
 * The VEVENTs of one appointment: the event (a series: with its RRULE and EXDATE) and, for a
 * series, one per changed occurrence (same UID, RECURRENCE-ID). DTSTART, DTEND, EXDATE and
 * RECURRENCE-ID are all in the appointment's zone, so every reader expands the rule the same way.
 * `props` gives the rest of each VEVENT (UID, SUMMARY…), given a changed occurrence's own title.
 */
export function appointmentEvents(
  desired: Times,
  props: (changed?: { title?: string }) => JCalProperty[],
  /** false: the event alone, without rule or occurrences (a CANCEL of the whole series). */
  opts: { series?: boolean } = {},
): JCalComponent[] {
  const zone = zoneOf(desired);
  const inZone = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' }).setZone(zone ?? 'utc');
  const series = opts.series === false ? undefined : icalSeries(desired);
  const rules: JCalProperty[] = series
    ? [
        ruleProp(series.rule),
        ...(series.exdates.length
          ? [desired.allDay ? datesProp('exdate', series.exdates) : dateTimesProp('exdate', series.exdates, zone)]
          : []),
      ]
    : [];
  const master: JCalComponent = [
    'vevent',
    [
      ...props(),
      ...timeProps({ start: inZone(desired.start), end: inZone(desired.end) }, desired.allDay, zone),
      ...rules,
    ],
    [],
  ];
  return [
    master,
    ...(series?.changed ?? []).map((c): JCalComponent => [
      'vevent',
      [...props(c), ...timeProps(c, desired.allDay, zone)],
      [],
    ]),
  ];
}
