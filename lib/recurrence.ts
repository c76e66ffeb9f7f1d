import ICAL from 'ical.js';
import { DateTime, type DurationLike } from 'luxon';
import { anyDayMatches, dayNumber, partsOutOfRange, ruleDays } from './recurrenceDays';
import type { DesiredAppointment, RecurrenceException } from './types';
import { ianaZone, wallClockToInstant } from './zoneTime';

/**
 * Recurring appointments: the RRULE (checked by ical.js), its expansion, its exceptions keyed by
 * the occurrence's local date. Plain functions, used by the API (validation) and the providers
 * (what to write). Not for workflow code.
 */

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
  // A COUNT is counted from the first occurrence (once per series, see lastOfCounted): bounded here.
  if (Number(parts.get('COUNT')) > MAX_SERIES_COUNT)
    return `COUNT may be at most ${MAX_SERIES_COUNT} (a longer series can end by UNTIL or not at all)`;
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
  const probe = expandStarts(
    unbounded,
    first.minus({ [unit]: recur.interval || 1 }),
    Number.NEGATIVE_INFINITY,
    first.toMillis(),
    allDay,
  );
  if (!probe.some((d) => d.toMillis() === first.toMillis()))
    return "must include the appointment's start (start is not on the rule's pattern)";
  return undefined;
}

/** The period each FREQ repeats in, as a luxon unit. */
const PERIOD_UNIT = { DAILY: 'days', WEEKLY: 'weeks', MONTHLY: 'months', YEARLY: 'years' } as const;
type Freq = keyof typeof PERIOD_UNIT;
const ICAL_DAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];

/** A wall-clock time as a zone-less DateTime (UTC fields), so calendar arithmetic knows no DST. */
function floating(at: DateTime): DateTime {
  return DateTime.fromObject(
    { year: at.year, month: at.month, day: at.day, hour: at.hour, minute: at.minute, second: at.second },
    { zone: 'utc' },
  );
}

/** One occurrence of a series' pattern: its local date (exceptions are keyed by it) and its start instant. */
interface PatternOccurrence {
  /** The local date as a day number (lib/recurrenceDays.ts), made a string only where an exception may name it. */
  day: number;
  ms: number;
}

/**
 * Occurrence starts of the rule from `first` (wall-clock kept across DST changes) that begin in
 * [fromMs, untilMs]. An all-day series expands from a DATE start (its occurrences are local midnights).
 * The work is the window's, not the series' age. `limit` stops after that many (only for checks
 * that look at a series' first occurrences on purpose).
 */
function expandStarts(
  rule: string,
  first: DateTime,
  fromMs: number,
  untilMs: number,
  allDay = false,
  limit = Number.POSITIVE_INFINITY,
): DateTime[] {
  return patternOccurrences(rule, first, fromMs, untilMs, allDay, limit).map((o) =>
    DateTime.fromMillis(o.ms, { zone: first.zone }),
  );
}

function patternOccurrences(
  rule: string,
  first: DateTime,
  fromMs: number,
  untilMs: number,
  allDay = false,
  limit = Number.POSITIVE_INFINITY,
): PatternOccurrence[] {
  return (
    arithmeticOccurrences(rule, first, fromMs, untilMs, allDay, limit) ??
    icalStarts(rule, first, fromMs, untilMs, allDay, limit).map((at) => ({
      day: dayNumber(at.year, at.month, at.day),
      ms: at.toMillis(),
    }))
  );
}

const DAY_MS = 86400000;
/** Days expanded at a time when a series is walked without a window's end (COUNT, UNTIL, `limit`). */
const CHUNK_DAYS = 366;
/** A series is never walked further than this from its first start (a COUNT of rare dates). */
const WALKED_DAYS = 400 * 366;

/**
 * The pattern by calendar arithmetic (lib/recurrenceDays.ts) and the zone's offsets (lib/zoneTime.ts):
 * straight to the window, a few microseconds an occurrence. Undefined for what that does not cover.
 */
function arithmeticOccurrences(
  rawRule: string,
  first: DateTime,
  fromMs: number,
  untilMs: number,
  allDay: boolean,
  limit: number,
): PatternOccurrence[] | undefined {
  const parts = partsOf(normalizeRule(rawRule));
  // ruleDays reads only the parts calsync accepts: a calendar's own rule with others (BYHOUR, BYSETPOS…) goes to ical.js.
  if ([...parts.keys()].some((k) => !ALLOWED_PARTS.has(k))) return undefined;
  const until = parts.get('UNTIL');
  const untilParts = until ? /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/.exec(until) : undefined;
  if (until && !untilParts) return undefined;
  // UNTIL as ical.js reads it: a UTC time as an instant, a date or floating time as wall-clock.
  const [, y, mo, d, h, mi, se] = untilParts ?? [];
  const untilWall = untilParts
    ? Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(se ?? 0))
    : Number.POSITIVE_INFINITY;
  const untilIsInstant = Boolean(untilParts?.[7]);
  let count = parts.has('COUNT') ? Number(parts.get('COUNT')) : undefined;
  parts.delete('COUNT');
  parts.delete('UNTIL');
  const zone = first.zoneName ?? 'UTC';
  const firstDn = dayNumber(first.year, first.month, first.day);
  const timeOfDay = allDay ? 0 : ((first.hour * 60 + first.minute) * 60 + first.second) * 1000;
  let lastDay = Math.min(
    Number.isFinite(untilMs) ? Math.floor(untilMs / DAY_MS) + 2 : Number.POSITIVE_INFINITY,
    Number.isFinite(untilWall) ? Math.floor(untilWall / DAY_MS) + 2 : Number.POSITIVE_INFINITY,
    firstDn + WALKED_DAYS,
  );
  let day = firstDn;
  if (Number.isFinite(fromMs)) {
    if (count !== undefined) {
      // Counting needs the series from its start: done once per series (lastOfCounted), then it is an end day.
      const last = lastOfCounted(rawRule, first, allDay);
      lastDay = Math.min(lastDay, last.day);
      count = undefined;
    }
    day = Math.max(firstDn, Math.floor(fromMs / DAY_MS) - 2);
  }
  const out: PatternOccurrence[] = [];
  let n = 0;
  for (; day <= lastDay; day += CHUNK_DAYS) {
    const days = ruleDays(parts, firstDn, day, Math.min(day + CHUNK_DAYS - 1, lastDay));
    if (!days) return undefined;
    for (const dn of days) {
      const wallMs = dn * DAY_MS + timeOfDay;
      const ms = wallClockToInstant(zone, wallMs);
      if ((untilIsInstant ? ms : wallMs) > untilWall || ms > untilMs) return out;
      if (count !== undefined && ++n > count) return out;
      if (ms < fromMs) continue;
      out.push({ day: dn, ms });
      if (out.length >= limit) return out;
    }
  }
  return out;
}

/** Occurrences ical.js may step through per expansion: the window's work, however the rule is made. */
const MAX_ICAL_STEPS = 100_000;
/** Steps of a sub-daily rule's INTERVAL ical.js may take (a minutely rule over two years). */
const MAX_RAW_STEPS = 1_000_000;

/** An expansion would have had to walk further than its bound: what it would give is unknown, not empty. */
export class ExpansionBoundReached extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpansionBoundReached';
  }
}

/**
 * The same by ical.js, for rules the arithmetic does not cover: from a start moved near the window
 * (`windowStart`), so the work is still the window's.
 */
function icalStarts(
  rule: string,
  first: DateTime,
  fromMs: number,
  untilMs: number,
  allDay: boolean,
  limit: number,
): DateTime[] {
  const parts = partsOf(normalizeRule(rule));
  const outOfRange = partsOutOfRange(parts);
  if (outOfRange) throw new Error(outOfRange);
  // A rule no day can match has its first start only (ical.js would search for the next forever).
  if (!anyDayMatches(parts)) return first.toMillis() >= fromMs && first.toMillis() <= untilMs ? [first] : [];
  const jump = Number.isFinite(fromMs) ? windowStart(normalizeRule(rule), first, fromMs, allDay) : undefined;
  const start = jump?.start ?? floating(first);
  const dtstart = ICAL.Time.fromData({
    year: start.year,
    month: start.month,
    day: start.day,
    hour: start.hour,
    minute: start.minute,
    second: start.second,
    isDate: allDay,
  });
  const recur = ICAL.Recur.fromString(jump?.rule ?? rule);
  // ical.js steps a sub-daily rule with BY* limits one INTERVAL at a time inside next(), yielding
  // or not: the steps to the window's end are bounded before any is taken.
  const step = STEP_MS[recur.freq];
  if (step && Number.isFinite(untilMs) && !Object.keys(recur.parts).every((k) => PLAIN_PARTS.has(k))) {
    const raw = (untilMs - start.toMillis()) / (step * (recur.interval || 1));
    if (raw > MAX_RAW_STEPS)
      throw new ExpansionBoundReached(
        `the rule ${rule} would step ${Math.round(raw)} times from ${start.toISO({ includeOffset: false })} (at most ${MAX_RAW_STEPS})`,
      );
  }
  const iterator = recur.iterator(dtstart);
  const out: DateTime[] = [];
  let steps = 0;
  for (let t = iterator.next(); t && out.length < limit; t = iterator.next()) {
    if (++steps > MAX_ICAL_STEPS)
      throw new ExpansionBoundReached(
        `the rule ${rule} needs more than ${MAX_ICAL_STEPS} steps from ${start.toISO({ includeOffset: false })} to cover the window`,
      );
    const at = DateTime.fromObject(
      { year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second },
      { zone: first.zone },
    );
    const ms = at.toMillis();
    if (ms > untilMs) break;
    // Before the window: the jumped DTSTART (which ical.js yields whether or not it is on the pattern) and its period.
    if (ms >= fromMs) out.push(at);
  }
  return out;
}

/**
 * Where to start expanding so that the occurrences from `fromMs` on are exactly the series': the
 * start of a period of the rule (day, week from WKST, month, year) a whole number of INTERVALs after
 * the first start's period, at the first start's time of day, before the window. The rule gets the
 * parts ical.js would otherwise take from DTSTART (the weekday, day of month, month), and a COUNT
 * becomes the UNTIL of its last occurrence. Undefined when the window is near the first start anyway.
 */
function windowStart(
  rule: string,
  first: DateTime,
  fromMs: number,
  allDay: boolean,
): { start: DateTime; rule: string } | undefined {
  const parts = partsOf(rule);
  if (parts.get('FREQ')! in STEP_MS) return subDailyStart(parts, first, fromMs);
  const freq = parts.get('FREQ') as Freq;
  const unit = PERIOD_UNIT[freq];
  if (!unit) return undefined;
  const interval = Number(parts.get('INTERVAL') ?? 1) || 1;
  const local = floating(first);
  // Two days' slack for zone offsets (the window is an instant, the expansion wall-clock).
  const target = floating(DateTime.fromMillis(fromMs, { zone: first.zone })).minus({ days: 2 });
  const periodStart =
    freq === 'DAILY'
      ? local
      : freq === 'WEEKLY'
        ? local.minus({ days: (local.weekday - 1 - ICAL_DAYS.indexOf(parts.get('WKST') ?? 'MO') + 7) % 7 })
        : freq === 'MONTHLY'
          ? local.set({ day: 1 })
          : local.set({ month: 1, day: 1 });
  // One whole period before the target, so the jumped start (and its period) lies before the window.
  const periods = Math.floor(target.diff(periodStart, unit).as(unit) / interval) - 1;
  if (periods < 1) return undefined;
  if (freq === 'WEEKLY' && !parts.has('BYDAY')) parts.set('BYDAY', ICAL_DAYS[local.weekday - 1]!);
  if (freq === 'MONTHLY' && !parts.has('BYDAY') && !parts.has('BYMONTHDAY')) parts.set('BYMONTHDAY', String(local.day));
  // ical.js takes no month or day from DTSTART for a rule that names its days of the year or weeks.
  if (freq === 'YEARLY' && !parts.has('BYYEARDAY') && !parts.has('BYWEEKNO')) {
    if (!parts.has('BYMONTH')) parts.set('BYMONTH', String(local.month));
    if (!parts.has('BYDAY') && !parts.has('BYMONTHDAY')) parts.set('BYMONTHDAY', String(local.day));
  }
  if (parts.has('COUNT')) {
    const last = lastOfCounted(rule, first, allDay);
    parts.delete('COUNT');
    parts.set(
      'UNTIL',
      floating(DateTime.fromMillis(last.ms, { zone: first.zone })).toFormat(allDay ? 'yyyyMMdd' : "yyyyMMdd'T'HHmmss"),
    );
  }
  return {
    start: periodStart.plus({ [unit]: periods * interval }),
    rule: [...parts].map(([k, v]) => `${k}=${v}`).join(';'),
  };
}

/** The step of each sub-daily FREQ (a calendar's own series: calsync accepts none). */
const STEP_MS: Record<string, number> = { HOURLY: 3600_000, MINUTELY: 60_000, SECONDLY: 1000 };
/** Parts that neither limit nor expand a rule. */
const PLAIN_PARTS = new Set(['FREQ', 'INTERVAL', 'COUNT', 'UNTIL', 'WKST']);

/**
 * The jump for an HOURLY, MINUTELY or SECONDLY rule: a whole number of INTERVALs from the first
 * start (wall-clock, as ical.js steps), just before the window, so the steps taken are the
 * window's. A rule with BY* parts cycles through them within a day: it starts a day earlier.
 * A COUNT becomes its last start's UNTIL, by arithmetic when no BY* part limits the steps; with
 * one, only a walk from the first start can count (bounded: see icalStarts).
 */
function subDailyStart(
  parts: Map<string, string>,
  first: DateTime,
  fromMs: number,
): { start: DateTime; rule: string } | undefined {
  const step = STEP_MS[parts.get('FREQ')!]! * (Number(parts.get('INTERVAL') ?? 1) || 1);
  const plain = [...parts.keys()].every((k) => PLAIN_PARTS.has(k));
  if (parts.has('COUNT')) {
    if (!plain) return undefined;
    const last = floating(first).plus({ milliseconds: (Number(parts.get('COUNT')) - 1) * step });
    parts.delete('COUNT');
    parts.set('UNTIL', last.toFormat("yyyyMMdd'T'HHmmss"));
  }
  const local = floating(first);
  // An hour's slack for a DST change between the instant and the wall clock.
  const target = floating(DateTime.fromMillis(fromMs, { zone: first.zone })).minus({ hours: plain ? 1 : 25 });
  const steps = Math.floor(target.diff(local).as('milliseconds') / step);
  if (steps < 1) return undefined;
  return { start: local.plus({ milliseconds: steps * step }), rule: [...parts].map(([k, v]) => `${k}=${v}`).join(';') };
}

/**
 * Occurrence starts of any RFC 5545 rule (a calendar's own series, which calsync did not check)
 * from a first start given as wall-clock ms (its fields as UTC), within [fromWall, toWall], at
 * most `limit`: the caller turns wall-clock into instants in the series' own zone. The work is
 * the window's; a rule that cannot be brought near the window (a COUNT with BY* parts on an
 * hourly rule) is walked at most MAX_ICAL_STEPS, else ExpansionBoundReached. The first start
 * itself is the caller's (RFC 5545 counts it whether or not the rule falls on it).
 */
export function wallClockStarts(
  rule: string,
  firstWall: number,
  fromWall: number,
  toWall: number,
  allDay: boolean,
  limit: number,
): number[] {
  const first = DateTime.fromMillis(firstWall, { zone: 'utc' });
  return patternOccurrences(normalizeRule(rule), first, fromWall, toWall, allDay, limit).map((o) => o.ms);
}

/** The most occurrences a COUNT may ask for (a daily series of almost three years). */
export const MAX_SERIES_COUNT = 1000;

/** Last occurrence of COUNT rules, by rule, first start and kind: counting needs the series from its start, once. */
const countedEnds = new Map<string, PatternOccurrence>();
const COUNTED_ENDS_KEPT = 10_000;

function lastOfCounted(rule: string, first: DateTime, allDay: boolean): PatternOccurrence {
  const key = `${rule}|${first.toISO()}|${first.zoneName}|${allDay}`;
  let last = countedEnds.get(key);
  if (!last) {
    last = patternOccurrences(rule, first, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, allDay).at(-1) ?? {
      day: dayNumber(first.year, first.month, first.day),
      ms: first.toMillis(),
    };
    if (countedEnds.size >= COUNTED_ENDS_KEPT) countedEnds.delete(countedEnds.keys().next().value!);
    countedEnds.set(key, last);
  }
  return last;
}

/** The appointment's first start as wall-clock time in its zone. */
function firstStart(desired: Pick<DesiredAppointment, 'start' | 'timeZone'>): DateTime {
  return DateTime.fromMillis(Date.parse(desired.start), { zone: ianaZone(desired.timeZone) ?? desired.timeZone });
}

/** Starts of the series' occurrences (exceptions not applied) up to `untilMs`, from `fromMs` if given. */
export function occurrenceStarts(
  desired: Pick<DesiredAppointment, 'start' | 'timeZone' | 'recurrence' | 'allDay'>,
  untilMs: number,
  fromMs = Number.NEGATIVE_INFINITY,
): DateTime[] {
  if (!desired.recurrence)
    return [firstStart(desired)].filter((d) => d.toMillis() >= fromMs && d.toMillis() <= untilMs);
  return expandStarts(desired.recurrence.rule, firstStart(desired), fromMs, untilMs, desired.allDay);
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
  return occurrenceStarts(desired, at.toMillis(), at.toMillis()).some((d) => d.toMillis() === at.toMillis());
}

/** One occurrence as it should show: on the pattern, moved or changed by an exception. */
export interface PlannedOccurrence {
  /** The occurrence's local date on the pattern (what an exception names). */
  originalDate: string;
  originalStartMs: number;
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
  return plannedSpans(desired, fromMs, toMs).map((o) => ({
    originalDate: isoDateOf(o.day),
    originalStartMs: o.originalStartMs,
    start: new Date(o.startMs).toISOString(),
    end: new Date(o.endMs).toISOString(),
    ...(o.title ? { title: o.title } : {}),
  }));
}

/** The same as instants only (busy time): no strings made for what is only compared. */
export function occurrenceSpans(
  desired: Pick<DesiredAppointment, 'start' | 'end' | 'timeZone' | 'recurrence' | 'allDay'>,
  fromMs: number,
  toMs: number,
): Array<{ startMs: number; endMs: number }> {
  return plannedSpans(desired, fromMs, toMs);
}

function isoDateOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

function plannedSpans(
  desired: Pick<DesiredAppointment, 'start' | 'end' | 'timeZone' | 'recurrence' | 'allDay'>,
  fromMs: number,
  toMs: number,
): Array<{ day: number; originalStartMs: number; startMs: number; endMs: number; title?: string }> {
  const length = occurrenceLength(desired);
  const exceptions = desired.recurrence?.exceptions ?? [];
  const byDate = new Map(exceptions.map((e) => [e.originalDate, e]));
  const days = desired.allDay ? (length as { days: number }).days : 0;
  // The longest an occurrence can last: one that began before the window may still reach into it.
  const reachMs = desired.allDay ? days * 25 * 3600000 : Date.parse(desired.end) - Date.parse(desired.start);
  const patternFromMs = fromMs - reachMs;
  const first = firstStart(desired);
  const pattern: PatternOccurrence[] = desired.recurrence
    ? patternOccurrences(desired.recurrence.rule, first, patternFromMs, toMs, desired.allDay)
    : [{ day: dayNumber(first.year, first.month, first.day), ms: first.toMillis() }];
  // A moved occurrence may land in the window from further away: its original date must be on the pattern.
  for (const e of exceptions) {
    if (e.cancelled || !e.start || !e.end || Date.parse(e.start) >= toMs || Date.parse(e.end) <= fromMs) continue;
    const original = originalStartOf(desired, e).toMillis();
    if (original >= patternFromMs && original <= toMs) continue;
    if (isOccurrenceDate(desired, e.originalDate))
      pattern.push({ day: Date.parse(`${e.originalDate}T00:00:00Z`) / DAY_MS, ms: original });
  }
  const zone = desired.timeZone;
  const out: Array<{ day: number; originalStartMs: number; startMs: number; endMs: number; title?: string }> = [];
  for (const { day, ms } of pattern) {
    const exception = byDate.size ? byDate.get(isoDateOf(day)) : undefined;
    if (exception?.cancelled) continue;
    const startMs = exception?.start ? Date.parse(exception.start) : ms;
    let endMs: number;
    if (exception?.end) endMs = Date.parse(exception.end);
    else if (!desired.allDay) endMs = startMs + reachMs;
    else if (!exception?.start) endMs = wallClockToInstant(zone, (day + days) * DAY_MS);
    else endMs = DateTime.fromMillis(startMs, { zone }).plus(length).toMillis();
    // A moved occurrence may leave the window.
    if (startMs >= toMs || endMs <= fromMs) continue;
    out.push({ day, originalStartMs: ms, startMs, endMs, ...(exception?.title ? { title: exception.title } : {}) });
  }
  return out;
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
    Number.NEGATIVE_INFINITY,
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
  // Around each moved occurrence (where it was and where it went), a year and more either side: its
  // neighbours, however long the series has run. Overlapping stretches merged, so each is expanded once.
  const margin = 400 * 86400000;
  const stretches = moved
    .map((e) => {
      const original = originalStartOf(desired, e).toMillis();
      return [Math.min(original, Date.parse(e.start!)) - margin, Math.max(original, Date.parse(e.end!)) + margin];
    })
    .sort((a, b) => a[0]! - b[0]!)
    .reduce<number[][]>((merged, [from, to]) => {
      const last = merged.at(-1);
      if (last && from! <= last[1]!) last[1] = Math.max(last[1]!, to!);
      else merged.push([from!, to!]);
      return merged;
    }, []);
  const byOriginal = new Map<number, PlannedOccurrence>();
  for (const [from, to] of stretches)
    for (const o of occurrencesBetween(desired, from!, to!)) byOriginal.set(o.originalStartMs, o);
  const planned = [...byOriginal.values()];
  planned.sort((a, b) => a.originalStartMs - b.originalStartMs);
  const movedDates = new Set(moved.map((e) => e.originalDate));
  planned.forEach((o, i) => {
    const date = o.originalDate;
    if (!movedDates.has(date)) return;
    const [before, after] = [planned[i - 1], planned[i + 1]];
    if (before && Date.parse(o.start) < Date.parse(before.end)) clashes.set(date, before.originalDate);
    else if (after && Date.parse(o.end) > Date.parse(after.start)) clashes.set(date, after.originalDate);
  });
  return clashes;
}

/**
 * When the series' last occurrence ends, moved occurrences included: null when the rule has no
 * COUNT or UNTIL (it never ends). A single appointment ends at its end.
 */
export function seriesEnd(
  desired: Pick<DesiredAppointment, 'start' | 'end' | 'timeZone' | 'recurrence' | 'allDay'>,
): string | null {
  if (!desired.recurrence) return desired.end;
  const parts = partsOf(normalizeRule(desired.recurrence.rule));
  if (!parts.has('COUNT') && !parts.has('UNTIL')) return null;
  const first = firstStart(desired);
  const rule = normalizeRule(desired.recurrence.rule);
  const last = parts.has('COUNT')
    ? lastOfCounted(rule, first, desired.allDay ?? false)
    : lastBefore(rule, first, untilBound(parts.get('UNTIL')!), desired.allDay ?? false);
  let lastMs = last
    ? DateTime.fromMillis(last.ms, { zone: first.zone }).plus(occurrenceLength(desired)).toMillis()
    : Date.parse(desired.end);
  // A moved occurrence may end after the pattern's last one.
  for (const e of desired.recurrence.exceptions ?? [])
    if (!e.cancelled && e.end) lastMs = Math.max(lastMs, Date.parse(e.end));
  return new Date(lastMs).toISOString();
}

/** An instant no earlier than the rule's UNTIL (a date, a floating or a UTC date-time), whatever the zone. */
function untilBound(until: string): number {
  const [, y, m, d] = /^(\d{4})(\d{2})(\d{2})/.exec(until)!;
  return Date.UTC(Number(y), Number(m) - 1, Number(d)) + 3 * 86400000;
}

/** The series' last occurrence starting by `untilMs`: looked for in ever longer stretches back from there. */
function lastBefore(rule: string, first: DateTime, untilMs: number, allDay: boolean): PatternOccurrence | undefined {
  for (let span = 400 * 86400000; ; span *= 4) {
    const fromMs = untilMs - span;
    const found = patternOccurrences(rule, first, fromMs, untilMs, allDay).at(-1);
    if (found || fromMs <= first.toMillis()) return found;
  }
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
