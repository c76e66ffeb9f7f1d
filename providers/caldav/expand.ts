import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { ExpansionBoundReached, wallClockStarts } from '../../lib/recurrence';
import type { ImportedEvent } from '../busyTypes';
import { epochOf, parseResource, showAsOf, tagProperty } from './eventIcs';

/**
 * Occurrences of one series kept per pass at most: bounds what one imported series costs (an
 * hourly series fills it over 416 days; the import window is 91 by default). Beyond it the first
 * ones count and the calendar's import says the series was cut.
 */
export const MAX_EXPANDED_OCCURRENCES = 10_000;
const DAY_MS = 86400_000;
const HOUR_MS = 3600_000;
const MAX_RULES = 5;
const tooMany = `the series has more than ${MAX_EXPANDED_OCCURRENCES} occurrences in the import window: only the first ${MAX_EXPANDED_OCCURRENCES} count`;

/** An ICAL.Time as an instant; a DATE (all-day) is midnight in `zone`, a floating time is local to `zone`. */
function instant(t: ICAL.Time, zone: string): Date {
  if (isFloating(t))
    return DateTime.fromObject(
      { year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second },
      { zone },
    ).toJSDate();
  return new Date(epochOf(t));
}

/** Read in the calendar's zone: a date, a floating time, or a TZID ical.js has no VTIMEZONE for. */
const isFloating = (t: ICAL.Time): boolean => t.isDate || !t.zone || t.zone === ICAL.Timezone.localTimezone;

/** An ICAL.Time's own fields as epoch ms in UTC: the wall clock series are expanded in. */
const fieldsOf = (t: ICAL.Time): number => Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);

/** The wall clock of `t` in the frame of the series' first start (its zone, or the calendar's for a floating one). */
function wallIn(frame: ICAL.Time, t: ICAL.Time, zone: string): number {
  if (isFloating(frame) ? isFloating(t) : t.zone === frame.zone) return fieldsOf(t);
  const ms = instant(t, zone).getTime();
  if (isFloating(frame)) {
    const d = DateTime.fromMillis(ms, { zone });
    return Date.UTC(d.year, d.month - 1, d.day, d.hour, d.minute, d.second);
  }
  return fieldsOf(ICAL.Time.fromJSDate(new Date(ms), true).convertToZone(frame.zone!));
}

/** The occurrence at a wall clock, as ical.js names occurrences: in the first start's zone and kind. */
function timeAt(frame: ICAL.Time, wall: number): ICAL.Time {
  const d = new Date(wall);
  return ICAL.Time.fromData(
    {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: frame.isDate ? 0 : d.getUTCHours(),
      minute: frame.isDate ? 0 : d.getUTCMinutes(),
      second: frame.isDate ? 0 : d.getUTCSeconds(),
      isDate: frame.isDate,
    },
    frame.zone,
  );
}

/** The RRULE with its UNTIL on the first start's wall clock (a UTC UNTIL is an instant; the expansion knows no zone). */
function ruleIn(frame: ICAL.Time, recur: ICAL.Recur, zone: string): string {
  const rule = recur.clone();
  if (rule.until) {
    const until = new Date(wallIn(frame, rule.until, zone));
    rule.until = ICAL.Time.fromData({
      year: until.getUTCFullYear(),
      month: until.getUTCMonth() + 1,
      day: until.getUTCDate(),
      hour: until.getUTCHours(),
      minute: until.getUTCMinutes(),
      second: until.getUTCSeconds(),
      isDate: rule.until.isDate,
    });
  }
  return rule.toString();
}

/**
 * One resource's busy time in the window: a single event, or each occurrence of a series that
 * lies in it. A series' starts in the window come from lib/recurrence (calendar arithmetic, or
 * ical.js started near the window), never from a walk from its first start however old; then
 * RDATE, EXDATE and the overrides by RECURRENCE-ID (ical.js `getOccurrenceDetails`), an override
 * moved in from outside the window included. calsync's own events (an X-CALSYNC-ID tag) and
 * cancelled ones give nothing; free ones come as `free`. A string is why the resource cannot be
 * read; `incomplete`, why only part of its busy time could be (a bound reached), never silently.
 */
export function expandResource(
  id: string,
  ics: string,
  window: { start: Date; end: Date },
  zone: string,
): { events: ImportedEvent[]; incomplete?: string } | string {
  const parsed = parseResource(ics);
  if (!parsed) return 'the resource is not iCalendar';
  const { master, overrides } = parsed;
  if (master.hasProperty(tagProperty('calsyncId'))) return { events: [] };
  const cancelled = (v: ICAL.Component) =>
    String(v.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED';
  if (cancelled(master)) return { events: [] };
  const title = (v: ICAL.Component) => {
    const summary = v.getFirstPropertyValue('summary');
    return summary ? { title: String(summary) } : {};
  };
  const event = new ICAL.Event(master, { exceptions: overrides.map((o) => new ICAL.Event(o)) });
  const first = event.startDate;
  if (!first) return 'the event has no start';
  const allDay = first.isDate;
  if (!event.isRecurring()) {
    const start = instant(first, zone);
    const end = event.endDate ? instant(event.endDate, zone) : start;
    return { events: [{ remoteId: id, start, end, allDay, showAs: showAsOf(master), ...title(master) }] };
  }
  let occurrences: number[];
  let incomplete: string | undefined;
  try {
    ({ occurrences, incomplete } = seriesStarts(master, event, window, zone));
  } catch (err) {
    // ical.js refuses some rules (BYYEARDAY with BYMONTH…): the series cannot be read at all.
    return `the recurrence cannot be expanded (${(err as Error).message})`;
  }
  const out: ImportedEvent[] = [];
  for (const wall of occurrences) {
    const details = event.getOccurrenceDetails(timeAt(first, wall));
    const start = instant(details.startDate, zone);
    const end = instant(details.endDate, zone);
    // An override may have moved the occurrence out of the window.
    if (end <= window.start || start >= window.end) continue;
    const own = details.item.component;
    if (cancelled(own)) continue;
    out.push({
      remoteId: `${id}#${details.recurrenceId.toString()}`,
      seriesId: id,
      start,
      end,
      allDay,
      showAs: showAsOf(own),
      ...title(own),
    });
  }
  if (out.length > MAX_EXPANDED_OCCURRENCES) {
    out.sort((a, b) => a.start.getTime() - b.start.getTime());
    out.length = MAX_EXPANDED_OCCURRENCES;
    incomplete ??= tooMany;
  }
  return incomplete ? { events: out, incomplete } : { events: out };
}

/**
 * The series' occurrences (by their original start, as wall clock in the first start's frame)
 * that may show in the window: the first start, the RRULEs' and RDATEs' starts near it, less the
 * EXDATEs, and the occurrences an override moved into it from anywhere.
 */
function seriesStarts(
  master: ICAL.Component,
  event: ICAL.Event,
  window: { start: Date; end: Date },
  zone: string,
): { occurrences: number[]; incomplete?: string } {
  const first = event.startDate;
  const firstWall = fieldsOf(first);
  // The window on the first start's wall clock (an hour's slack for a DST change), and before it
  // the length of an occurrence, which may have begun earlier and reach into it.
  const lengthMs = Math.max(
    0,
    event.endDate ? instant(event.endDate, zone).getTime() - instant(first, zone).getTime() : 0,
  );
  const wallOfInstant = (d: Date) => wallIn(first, ICAL.Time.fromJSDate(d, true), zone);
  const fromWall = wallOfInstant(window.start) - lengthMs - (first.isDate ? DAY_MS : HOUR_MS);
  const toWall = wallOfInstant(window.end) + HOUR_MS;
  const ruleProps = master.getAllProperties('rrule');
  let incomplete: string | undefined;
  // RFC 5545 wants one RRULE: a few are read, not as many as a resource can hold.
  if (ruleProps.length > MAX_RULES)
    incomplete = `the series has ${ruleProps.length} RRULEs: only the first ${MAX_RULES} are read`;
  const rules = ruleProps.slice(0, MAX_RULES).map((p) => ruleIn(first, p.getFirstValue() as ICAL.Recur, zone));
  const rdates = master
    .getAllProperties('rdate')
    .flatMap((p) => p.getValues() as Array<ICAL.Time | ICAL.Period>)
    .map((v) => wallIn(first, v instanceof ICAL.Period ? v.start : v, zone));
  const excluded = new Set(
    master
      .getAllProperties('exdate')
      .flatMap((p) => p.getValues() as ICAL.Time[])
      .map((t) => (t.isDate && !first.isDate ? `date:${t.toString()}` : wallIn(first, t, zone))),
  );
  const isExcluded = (wall: number) =>
    excluded.has(wall) || excluded.has(`date:${new Date(wall).toISOString().slice(0, 10)}`);
  const starts = new Set<number>([firstWall, ...rdates].filter((w) => w >= fromWall && w <= toWall));
  for (const rule of rules) {
    try {
      const found = wallClockStarts(rule, firstWall, fromWall, toWall, first.isDate, MAX_EXPANDED_OCCURRENCES + 1);
      found.forEach((w) => starts.add(w));
      if (found.length > MAX_EXPANDED_OCCURRENCES) incomplete = tooMany;
    } catch (err) {
      if (!(err instanceof ExpansionBoundReached)) throw err;
      incomplete = `the series could not be expanded to the import window within the bound: ${err.message}`;
    }
  }
  // Overrides moved into the window from further away: their occurrence must be the series' own.
  const isOccurrence = (wall: number) =>
    wall === firstWall ||
    rdates.includes(wall) ||
    rules.some((rule) => {
      try {
        return wallClockStarts(rule, firstWall, wall, wall, first.isDate, 1).includes(wall);
      } catch {
        return false;
      }
    });
  for (const exception of Object.values(event.exceptions)) {
    if (!exception.recurrenceId) continue;
    const original = wallIn(first, exception.recurrenceId, zone);
    if (starts.has(original) || !exception.startDate) continue;
    const start = instant(exception.startDate, zone);
    const end = exception.endDate ? instant(exception.endDate, zone) : start;
    if (end <= window.start || start >= window.end) continue;
    if (isOccurrence(original)) starts.add(original);
  }
  const occurrences = [...starts].filter((w) => !isExcluded(w));
  return incomplete ? { occurrences, incomplete } : { occurrences };
}
