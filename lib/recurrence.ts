import ICAL from 'ical.js';
import { DateTime, type DurationLike } from 'luxon';
import type { DesiredAppointment, RecurrenceException } from './types';

/**
 * Recurring appointments: the RRULE (checked by ical.js), its expansion, its exceptions keyed by
 * the occurrence's local date. Plain functions, used by the API (validation) and the providers
 * (what to write). Not for workflow code.
 */

/** The most occurrences calsync ever expands of one series (busy time, exception checks). */
export const MAX_EXPANDED_OCCURRENCES = 1000;

/** Rule parts both Google and Graph can hold. Sub-daily rules and BYSETPOS/BYHOUR… have no Graph pattern. */
const ALLOWED_PARTS = new Set(['FREQ', 'INTERVAL', 'COUNT', 'UNTIL', 'BYDAY', 'BYMONTHDAY', 'BYMONTH', 'WKST']);
const FREQS = new Set(['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY']);

/** The rule without an `RRULE:` prefix, upper case, as stored and written. */
export function normalizeRule(rule: string): string {
  return rule
    .trim()
    .replace(/^RRULE:/i, '')
    .toUpperCase();
}

export function partsOf(rule: string): Map<string, string> {
  return new Map(
    rule
      .split(';')
      .filter(Boolean)
      .map((p) => {
        const [k, ...v] = p.split('=');
        return [k!, v.join('=')] as [string, string];
      }),
  );
}

/**
 * Why the rule cannot be a series starting at `first`, or undefined when it can: ical.js must
 * parse it and the first start must be one of its occurrences. What each calendar provider can
 * hold is its own check (`seriesProblem` of its module in providers/).
 * An all-day series' UNTIL must be a date, as its start is (RFC 5545: the same value type).
 */
export function ruleProblem(
  rawRule: string,
  first: DateTime,
  allDay = false,
  /** What the calendars that will hold the series cannot hold (asked before the pattern is expanded). */
  unholdable: (rule: string, first: DateTime) => string | undefined = () => undefined,
): string | undefined {
  const rule = normalizeRule(rawRule);
  // Only RRULE's own alphabet: a line break or a colon would let the caller write iCalendar of its own.
  if (!/^[A-Z0-9=;,+-]+$/.test(rule)) return 'may hold only RRULE parts: letters, digits and = ; , + -';
  let recur: ICAL.Recur;
  try {
    recur = ICAL.Recur.fromString(rule);
  } catch (err) {
    return `is not a valid RRULE (${(err as Error).message})`;
  }
  const parts = partsOf(rule);
  const unknown = [...parts.keys()].filter((k) => !ALLOWED_PARTS.has(k));
  if (unknown.length)
    return `uses ${unknown.join(', ')}, which calendars cannot all hold (allowed: ${[...ALLOWED_PARTS].join(', ')})`;
  if (!FREQS.has(recur.freq)) return 'FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY';
  if (parts.has('COUNT') && parts.has('UNTIL')) return 'cannot have both COUNT and UNTIL';
  if (allDay && parts.has('UNTIL') && !/^\d{8}$/.test(parts.get('UNTIL')!))
    return 'UNTIL of an all-day series must be a date such as UNTIL=20301231';
  const problem = unholdable(rule, first);
  if (problem) return problem;
  // Both providers take the event's start as the first occurrence: it must be on the pattern.
  // ical.js always yields its DTSTART first, so expand (without an end) from one period earlier.
  const unit = ({ DAILY: 'days', WEEKLY: 'weeks', MONTHLY: 'months', YEARLY: 'years' } as const)[recur.freq as 'DAILY'];
  const unbounded = [...parts]
    .filter(([k]) => k !== 'COUNT' && k !== 'UNTIL')
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
  const probe = expandStarts(unbounded, first.minus({ [unit]: recur.interval || 1 }), first.toMillis(), allDay);
  if (!probe.some((d) => d.toMillis() === first.toMillis()))
    return "must include the appointment's start (start is not on the rule's pattern)";
  return undefined;
}

/**
 * Occurrence starts of the rule from `first` (wall-clock kept across DST changes), up to `untilMs`.
 * An all-day series expands from a DATE start (its occurrences are local midnights).
 */
function expandStarts(
  rule: string,
  first: DateTime,
  untilMs: number,
  allDay = false,
  max = MAX_EXPANDED_OCCURRENCES,
): DateTime[] {
  const dtstart = ICAL.Time.fromData({
    year: first.year,
    month: first.month,
    day: first.day,
    hour: first.hour,
    minute: first.minute,
    second: first.second,
    isDate: allDay,
  });
  const iterator = ICAL.Recur.fromString(rule).iterator(dtstart);
  const out: DateTime[] = [];
  for (let t = iterator.next(); t && out.length < max; t = iterator.next()) {
    const at = DateTime.fromObject(
      { year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second },
      { zone: first.zone },
    );
    if (at.toMillis() > untilMs) break;
    out.push(at);
  }
  return out;
}

/** The appointment's first start as wall-clock time in its zone. */
function firstStart(desired: Pick<DesiredAppointment, 'start' | 'timeZone'>): DateTime {
  return DateTime.fromISO(desired.start, { zone: 'utc' }).setZone(desired.timeZone);
}

/** Starts of the series' occurrences (exceptions not applied) up to `untilMs`. */
export function occurrenceStarts(
  desired: Pick<DesiredAppointment, 'start' | 'timeZone' | 'recurrence' | 'allDay'>,
  untilMs: number,
): DateTime[] {
  if (!desired.recurrence) return [firstStart(desired)];
  return expandStarts(desired.recurrence.rule, firstStart(desired), untilMs, desired.allDay);
}

/**
 * How long each occurrence lasts: whole days for an all-day series (a day is 23 or 25 hours across
 * a DST change, and an all-day occurrence still ends at midnight), the exact time otherwise.
 */
export function occurrenceLength(
  desired: Pick<DesiredAppointment, 'start' | 'end' | 'timeZone' | 'allDay'>,
): DurationLike {
  if (!desired.allDay) return { milliseconds: Date.parse(desired.end) - Date.parse(desired.start) };
  const local = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' }).setZone(desired.timeZone);
  return { days: Math.round(local(desired.end).diff(local(desired.start), 'days').days) };
}

/**
 * The occurrence an exception names, on the series as it is now: the exception is keyed by the
 * occurrence's local date, so moving the whole series to another time of day keeps its exceptions.
 */
export function originalStartOf(
  desired: Pick<DesiredAppointment, 'start' | 'timeZone'>,
  exception: Pick<RecurrenceException, 'originalDate'>,
): DateTime {
  const first = firstStart(desired);
  return DateTime.fromISO(exception.originalDate, { zone: desired.timeZone }).set({
    hour: first.hour,
    minute: first.minute,
    second: first.second,
    millisecond: 0,
  });
}

/** Whether a local date carries an occurrence of the series. */
export function isOccurrenceDate(
  desired: Pick<DesiredAppointment, 'start' | 'timeZone' | 'recurrence' | 'allDay'>,
  date: string,
): boolean {
  const at = originalStartOf(desired, { originalDate: date });
  return occurrenceStarts(desired, at.toMillis()).some((d) => d.toMillis() === at.toMillis());
}

/** One occurrence as it should show: on the pattern, moved or changed by an exception. */
export interface PlannedOccurrence {
  originalStart: DateTime;
  start: string;
  end: string;
  title?: string;
}

/**
 * The occurrences of a series between two instants as the staff member's time shows them:
 * cancelled ones left out, moved ones at their new time (busy time and feeds).
 */
export function occurrencesBetween(
  desired: Pick<DesiredAppointment, 'start' | 'end' | 'timeZone' | 'recurrence' | 'allDay'>,
  fromMs: number,
  toMs: number,
): PlannedOccurrence[] {
  const length = occurrenceLength(desired);
  const byDate = new Map((desired.recurrence?.exceptions ?? []).map((e) => [e.originalDate, e]));
  const out: PlannedOccurrence[] = [];
  for (const at of occurrenceStarts(desired, toMs)) {
    const exception = byDate.get(at.toISODate()!);
    if (exception?.cancelled) continue;
    const start = exception?.start ?? at.toUTC().toISO()!;
    const end =
      exception?.end ??
      DateTime.fromISO(start, { zone: 'utc' }).setZone(desired.timeZone).plus(length).toUTC().toISO()!;
    out.push({ originalStart: at, start, end, ...(exception?.title ? { title: exception.title } : {}) });
  }
  // A moved occurrence may land in the window from outside it, or leave it.
  return out.filter((o) => Date.parse(o.start) < toMs && Date.parse(o.end) > fromMs);
}

/** Pattern occurrences looked at for overlap: more than a year of any allowed rule's shortest gaps. */
const OVERLAP_CHECKED_OCCURRENCES = 400;

/**
 * Whether an occurrence would run into the next one (its length beyond the pattern's shortest gap).
 * Microsoft 365 refuses such a series ("the duration must be shorter than how frequently it occurs");
 * Google would take it. Touching is fine: an all-day daily series of one day each.
 */
export function occurrencesOverlap(
  desired: Pick<DesiredAppointment, 'start' | 'end' | 'timeZone' | 'recurrence' | 'allDay'>,
): boolean {
  if (!desired.recurrence) return false;
  const starts = expandStarts(
    desired.recurrence.rule,
    firstStart(desired),
    Number.POSITIVE_INFINITY,
    desired.allDay,
    OVERLAP_CHECKED_OCCURRENCES,
  );
  const length = occurrenceLength(desired);
  return starts.some((at, i) => i + 1 < starts.length && at.plus(length).toMillis() > starts[i + 1]!.toMillis());
}

/**
 * The moved occurrences that overlap or pass a neighbouring occurrence (as the neighbour shows,
 * itself moved or not; cancelled ones are gone), by original date, with the neighbour's date.
 * Outlook keeps a series' occurrences in order and apart; Google would take them.
 */
export function movedOccurrenceClashes(
  desired: Pick<DesiredAppointment, 'start' | 'end' | 'timeZone' | 'recurrence' | 'allDay'>,
): Map<string, string> {
  const clashes = new Map<string, string>();
  const moved = (desired.recurrence?.exceptions ?? []).filter((e) => !e.cancelled && e.start);
  if (moved.length === 0) return clashes;
  const horizon =
    Math.max(...moved.map((e) => Math.max(Date.parse(e.end!), originalStartOf(desired, e).toMillis()))) + 1;
  // The occurrence after the last moved one counts too: expand one period past the horizon.
  const planned = occurrencesBetween(desired, Number.NEGATIVE_INFINITY, horizon + 400 * 86400000);
  planned.sort((a, b) => a.originalStart.toMillis() - b.originalStart.toMillis());
  const movedDates = new Set(moved.map((e) => e.originalDate));
  planned.forEach((o, i) => {
    const date = o.originalStart.toISODate()!;
    if (!movedDates.has(date)) return;
    const [before, after] = [planned[i - 1], planned[i + 1]];
    if (before && Date.parse(o.start) < Date.parse(before.end)) clashes.set(date, before.originalStart.toISODate()!);
    else if (after && Date.parse(o.end) > Date.parse(after.start)) clashes.set(date, after.originalStart.toISODate()!);
  });
  return clashes;
}

/**
 * When the series' last occurrence ends, moved occurrences included: null when the rule has no
 * COUNT or UNTIL, or runs past what calsync expands (it never ends, as far as calsync is concerned).
 * A single appointment ends at its end.
 */
export function seriesEnd(
  desired: Pick<DesiredAppointment, 'start' | 'end' | 'timeZone' | 'recurrence' | 'allDay'>,
): string | null {
  if (!desired.recurrence) return desired.end;
  const parts = partsOf(normalizeRule(desired.recurrence.rule));
  if (!parts.has('COUNT') && !parts.has('UNTIL')) return null;
  const starts = expandStarts(
    desired.recurrence.rule,
    firstStart(desired),
    Number.POSITIVE_INFINITY,
    desired.allDay,
    MAX_EXPANDED_OCCURRENCES + 1,
  );
  if (starts.length > MAX_EXPANDED_OCCURRENCES) return null;
  let lastMs = starts.length ? starts.at(-1)!.plus(occurrenceLength(desired)).toMillis() : Date.parse(desired.end);
  // A moved occurrence may end after the pattern's last one.
  for (const e of desired.recurrence.exceptions ?? [])
    if (!e.cancelled && e.end) lastMs = Math.max(lastMs, Date.parse(e.end));
  return new Date(lastMs).toISOString();
}

/**
 * A series as iCalendar (staff feeds, client invitations): the RRULE, the cancelled occurrences
 * (EXDATE) and each changed occurrence, for a VEVENT of its own with the series' UID and a
 * RECURRENCE-ID. Every time is in the appointment's zone, the zone the rule is expanded in: the
 * writer must put DTSTART, EXDATE and RECURRENCE-ID in that same zone (an all-day series names its
 * occurrences by their dates there).
 */
export function icalSeries(desired: Pick<DesiredAppointment, 'start' | 'end' | 'timeZone' | 'recurrence' | 'allDay'>):
  | {
      rule: string;
      exdates: DateTime[];
      changed: Array<{ recurrenceId: DateTime; start: DateTime; end: DateTime; title?: string }>;
    }
  | undefined {
  if (!desired.recurrence) return undefined;
  const exceptions = desired.recurrence.exceptions ?? [];
  const inZone = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' }).setZone(desired.timeZone);
  return {
    rule: normalizeRule(desired.recurrence.rule),
    exdates: exceptions.filter((e) => e.cancelled).map((e) => originalStartOf(desired, e)),
    // Moved, retitled, or both: an occurrence only retitled keeps its time.
    changed: exceptions
      .filter((e) => !e.cancelled)
      .map((e) => {
        const original = originalStartOf(desired, e);
        return {
          recurrenceId: original,
          start: e.start ? inZone(e.start) : original,
          end: e.end ? inZone(e.end) : original.plus(occurrenceLength(desired)),
          ...(e.title ? { title: e.title } : {}),
        };
      }),
  };
}
