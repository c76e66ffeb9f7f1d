import { DateTime, IANAZone } from 'luxon';
import type { JCalComponent, JCalProperty } from './ical';

/**
 * VTIMEZONE blocks from the runtime's own tzdata (Intl, through luxon): the same offsets the rest of
 * calsync computes instants with, never a bundled table that goes stale (Africa/Casablanca's
 * +01:00 outside Ramadan).
 *
 * A reader may apply one resource's VTIMEZONE to other resources and other years: vobject (Radicale,
 * and servers built on it) keeps one definition per TZID for the whole server, the last it parsed,
 * whoever wrote it. So where the zone follows a yearly rule today (the last Sunday of March, the
 * second Sunday of March...), the block states that rule as RRULE observances from the first year
 * it held, and is right for every year since then and every year to come, whatever event it was
 * written for. Transitions before the rule, and every transition of a zone without one (Casablanca
 * moves with Ramadan), are one observance each with a single DTSTART, for the years asked for.
 */

const DAY_MS = 86_400_000;
// No zone changes its offset twice within a week (Casablanca's Ramadan offset lasts a month):
// weekly steps find every change (a daily scan finds the same ones, five times slower).
const STEP_MS = 7 * DAY_MS;
const MINUTE_MS = 60_000;

const formats = new Map<string, Intl.DateTimeFormat>();

/**
 * The zone's UTC offset in minutes at an instant, from Intl (the tzdata luxon reads too): one
 * `format` with `longOffset` ("2026, GMT+02:00") is several times faster than luxon's formatToParts.
 */
function offsetAt(zone: string, ms: number): number {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset', year: 'numeric' });
    formats.set(zone, format);
  }
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(format.format(ms));
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/** The instants (ms, the first minute of the new offset) where the zone's offset changes in [fromMs, toMs). */
export function transitions(
  zoneName: string,
  fromMs: number,
  toMs: number,
): Array<{ at: number; from: number; to: number }> {
  const zone = zoneName;
  const out: Array<{ at: number; from: number; to: number }> = [];
  // Weekly steps, then bisect to the minute.
  let prevMs = fromMs;
  let prev = offsetAt(zone, prevMs);
  for (let ms = fromMs + STEP_MS; prevMs < toMs; ms += STEP_MS) {
    const at = Math.min(ms, toMs);
    const off = offsetAt(zone, at);
    if (off !== prev) {
      let lo = prevMs;
      let hi = at;
      while (hi - lo > MINUTE_MS) {
        const mid = lo + Math.floor((hi - lo) / 2 / MINUTE_MS) * MINUTE_MS || lo + MINUTE_MS;
        if (offsetAt(zone, mid) === prev) lo = mid;
        else hi = mid;
      }
      out.push({ at: hi, from: prev, to: off });
    }
    prevMs = at;
    prev = off;
  }
  return out;
}

const utcOffset = (minutes: number) => {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
};

/** jCal local date-time (no zone) of an instant seen at a UTC offset. */
const localAt = (ms: number, offsetMinutes: number) =>
  DateTime.fromMillis(ms + offsetMinutes * MINUTE_MS, { zone: 'utc' }).toFormat("yyyy-MM-dd'T'HH:mm:ss");

/** Whether a zone name is one the runtime knows. */
export function knownZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

type Transition = { at: number; from: number; to: number };

/** A transition as a yearly rule sees it: the local wall-clock moment (in the offset before it) and the day's place in its month. */
function describe(t: Transition) {
  const local = DateTime.fromMillis(t.at + t.from * MINUTE_MS, { zone: 'utc' });
  return {
    key: `${t.to > t.from}|${t.from}|${t.to}|${local.month}|${local.weekday}|${local.toFormat('HH:mm:ss')}`,
    month: local.month,
    weekday: local.weekday,
    day: local.day,
    last: local.day + 7 > local.daysInMonth!,
    daysInMonth: local.daysInMonth!,
  };
}

const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];

/** A yearly rule both of a zone's transitions have followed every year from `since` on. */
interface YearlyRule {
  since: number;
  /** The transitions of the year `since`, each with its RRULE. */
  observances: Array<{ first: Transition; rrule: Record<string, unknown> }>;
}

const yearTransitions = (zone: string, year: number) =>
  transitions(zone, Date.UTC(year, 0, 1), Date.UTC(year + 1, 0, 1));

const rules = new Map<string, YearlyRule | null>();

// How far back a rule is looked for: tzdata's own offsets before 1970 are not dependable.
const EARLIEST_RULE_YEAR = 1970;
// A rule must hold this many years ahead: the calendar's weekdays repeat every 28 years, so a rule
// that holds for 28 years holds for every year after (as far as today's tzdata knows).
const RULE_YEARS_AHEAD = 28;

/**
 * The RRULE parts that put one change on its day every year, tzdata's "weekday on or after day D"
 * (`Sun>=8`): the nth weekday, the last one, or the weekday among seven days of the month (Chile's
 * first Sunday from the 2nd, Israel's Friday before the last Sunday). Null when the days do not fit
 * one such rule (Egypt's Friday after the last Thursday of October can fall in November).
 */
function placeOf(days: Array<ReturnType<typeof describe>>): Record<string, unknown> | null {
  const weekday = WEEKDAYS[days[0]!.weekday - 1]!;
  if (days.every((d) => d.last)) return { byday: `-1${weekday}` };
  const first = Math.min(...days.map((d) => d.day));
  const lastDay = Math.max(...days.map((d) => d.day));
  if (lastDay - first > 6 || first + 6 > Math.min(...days.map((d) => d.daysInMonth))) return null;
  if ((first - 1) % 7 === 0) return { byday: `${(first + 6) / 7}${weekday}` };
  return { byday: weekday, bymonthday: Array.from({ length: 7 }, (_, i) => first + i) };
}

/** Each change of `years` (same keys every year) with the RRULE that places it, or null. */
function rulesOf(years: Transition[][]): YearlyRule['observances'] | null {
  const out: YearlyRule['observances'] = [];
  for (const first of years[0]!) {
    const key = describe(first).key;
    const place = placeOf(years.map((ts) => describe(ts.find((t) => describe(t).key === key)!)));
    if (!place) return null;
    out.push({ first, rrule: { freq: 'YEARLY', bymonth: describe(first).month, ...place } });
  }
  return out;
}

/**
 * The zone's current yearly rule, if it has one: two changes a year (one up, one down), each on the
 * same weekday of the same month at the same local time, placed by one RRULE, every year from the
 * first year it did so to RULE_YEARS_AHEAD years from now.
 */
function yearlyRule(zone: string): YearlyRule | null {
  const hit = rules.get(zone);
  if (hit !== undefined) return hit;
  const keys = (ts: Transition[]) =>
    ts
      .map((t) => describe(t).key)
      .sort()
      .join(',');
  const thisYear = new Date().getUTCFullYear();
  const anchor = thisYear + RULE_YEARS_AHEAD;
  const years = [yearTransitions(zone, anchor)];
  const [a, b] = years[0]!;
  let rule: YearlyRule | null = null;
  if (years[0]!.length === 2 && a!.to > a!.from !== b!.to > b!.from) {
    const want = keys(years[0]!);
    // Back from the anchor while each year keeps the rule. The same days of the week in the same
    // months but on other weeks is an older rule (the UK's October change before 1996, Chile's
    // September one of 2022).
    for (let year = anchor - 1; year >= EARLIEST_RULE_YEAR; year--) {
      const ts = yearTransitions(zone, year);
      if (ts.length !== 2 || keys(ts) !== want || !rulesOf([ts, ...years])) break;
      years.unshift(ts);
    }
    const since = anchor - years.length + 1;
    const observances = rulesOf(years);
    // A rule that starts in the future is not the zone's rule today.
    if (observances && since <= thisYear) rule = { since, observances };
  }
  rules.set(zone, rule);
  return rule;
}

const steadyYears = new Map<string, number | undefined>();

/**
 * For a zone whose offset stays the same from now to RULE_YEARS_AHEAD years ahead (Tokyo, and São
 * Paulo since it dropped summer time): the year of its last change (EARLIEST_RULE_YEAR if none since),
 * so its block holds for every year since, whatever event it was written for. Undefined for a zone
 * that still changes.
 */
function steadySince(zone: string): number | undefined {
  if (steadyYears.has(zone)) return steadyYears.get(zone);
  const thisYear = new Date().getUTCFullYear();
  let since: number | undefined;
  if (transitions(zone, Date.now(), Date.UTC(thisYear + RULE_YEARS_AHEAD, 0, 1)).length === 0) {
    since = EARLIEST_RULE_YEAR;
    for (let year = thisYear; year > EARLIEST_RULE_YEAR; year--) {
      if (yearTransitions(zone, year).length) {
        since = year;
        break;
      }
    }
  }
  steadyYears.set(zone, since);
  return since;
}

const cache = new Map<string, JCalComponent>();

/**
 * The VTIMEZONE (jCal) of a zone for events in the calendar years `fromYear`..`toYear`, TZID the
 * zone's name as given (DTSTART and the rest carry the same); undefined for a zone the runtime does
 * not know. Where the zone has a yearly rule, the rule covers every year from its first on; the
 * years before it, and all of a zone without one, are listed transition by transition, the first
 * observance starting on 1 January of `fromYear` with the offset in force then.
 */
export function vtimezone(zone: string, fromYear: number, toYear: number): JCalComponent | undefined {
  if (!knownZone(zone)) return undefined;
  const rule = yearlyRule(zone);
  const steady = rule ? undefined : steadySince(zone);
  // Listed one by one: the years asked for before the rule (at least the start of its first year);
  // for a zone whose offset no longer changes, from its last change on (at least).
  const listedFrom = Math.min(fromYear, rule?.since ?? steady ?? fromYear);
  const key = rule || steady !== undefined ? `${zone}|${listedFrom}` : `${zone}|${fromYear}|${toYear}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const observance = (
    kind: 'standard' | 'daylight',
    atMs: number,
    from: number,
    to: number,
    rrule?: Record<string, unknown>,
  ): JCalComponent => [
    kind,
    [
      ['dtstart', {}, 'date-time', localAt(atMs, from)],
      ...(rrule ? [['rrule', {}, 'recur', rrule] as JCalProperty] : []),
      ['tzoffsetfrom', {}, 'utc-offset', utcOffset(from)],
      ['tzoffsetto', {}, 'utc-offset', utcOffset(to)],
    ],
    [],
  ];
  // A rise of the offset against the one before is summer time for readers that care (display only).
  const kindOf = (t: Transition) => (t.to > t.from ? 'daylight' : 'standard');
  const fromMs = Date.UTC(listedFrom, 0, 1) - DAY_MS;
  const toMs = rule
    ? Math.min(...rule.observances.map((o) => o.first.at))
    : Date.UTC(Math.max(toYear, steady ?? toYear) + 1, 0, 1) + DAY_MS;
  const startOffset = offsetAt(zone, fromMs);
  const observances: JCalComponent[] = [
    observance('standard', fromMs, startOffset, startOffset),
    ...transitions(zone, fromMs, toMs)
      .filter((t) => t.at < toMs)
      .map((t) => observance(kindOf(t), t.at, t.from, t.to)),
  ];
  for (const { first, rrule } of rule?.observances ?? [])
    observances.push(observance(kindOf(first), first.at, first.from, first.to, rrule));
  const block: JCalComponent = ['vtimezone', [['tzid', {}, 'text', zone]], observances];
  cache.set(key, block);
  return block;
}
