import { DateTime } from 'luxon';
import { normalizeRule, partsOf } from '../../lib/recurrence';
import { graphZoneOf } from './zones';

/** How Graph's patternedRecurrence spells RRULE's parts. */
const GRAPH_DAYS: Record<string, string> = {
  SU: 'sunday',
  MO: 'monday',
  TU: 'tuesday',
  WE: 'wednesday',
  TH: 'thursday',
  FR: 'friday',
  SA: 'saturday',
};
const LUXON_DAYS = ['', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
const GRAPH_INDEX: Record<number, string> = { 1: 'first', 2: 'second', 3: 'third', 4: 'fourth', [-1]: 'last' };

export interface GraphPatternedRecurrence {
  pattern: {
    type: string;
    interval: number;
    daysOfWeek?: string[];
    dayOfMonth?: number;
    month?: number;
    index?: string;
    firstDayOfWeek?: string;
  };
  range: {
    type: 'noEnd' | 'endDate' | 'numbered';
    startDate: string;
    endDate?: string;
    numberOfOccurrences?: number;
    recurrenceTimeZone: string;
  };
}

/** An RRULE Graph cannot hold: the message says why (the API answers it as a 400). */
export class UnsupportedRecurrence extends Error {}

function ordinalDays(byDay: string[]): { index?: number; days: string[] } {
  const parsed = byDay.map((d) => /^([+-]?\d)?(SU|MO|TU|WE|TH|FR|SA)$/.exec(d));
  if (parsed.some((m) => !m)) throw new UnsupportedRecurrence(`BYDAY=${byDay.join(',')} is not a list of weekdays`);
  const indexes = new Set(parsed.map((m) => (m![1] ? Number(m![1]) : undefined)));
  if (indexes.size > 1)
    throw new UnsupportedRecurrence(
      'BYDAY must use one ordinal for all its days (Microsoft 365 has one index per pattern)',
    );
  const [index] = [...indexes];
  if (index !== undefined && !(index in GRAPH_INDEX))
    throw new UnsupportedRecurrence('BYDAY ordinals must be 1 to 4 or -1 (Microsoft 365: first…fourth, last)');
  return { index, days: parsed.map((m) => GRAPH_DAYS[m![2]!]!) };
}

/**
 * The rule as Graph's patternedRecurrence, for a series whose first occurrence starts at `first`
 * (wall-clock in the series' zone). Throws UnsupportedRecurrence for what Graph cannot express.
 */
export function toGraphRecurrence(rawRule: string, first: DateTime): GraphPatternedRecurrence {
  const parts = partsOf(normalizeRule(rawRule));
  const interval = Number(parts.get('INTERVAL') ?? '1');
  const byDay = parts.get('BYDAY')?.split(',');
  const byMonthDay = parts.get('BYMONTHDAY')?.split(',').map(Number);
  const byMonth = parts.get('BYMONTH')?.split(',').map(Number);
  if (byMonthDay && (byMonthDay.length > 1 || byMonthDay[0]! < 1))
    throw new UnsupportedRecurrence('BYMONTHDAY must be one positive day (Microsoft 365 holds one day of the month)');
  if (byMonth && byMonth.length > 1)
    throw new UnsupportedRecurrence('BYMONTH must be one month (Microsoft 365 holds one month)');
  if (byDay && byMonthDay)
    throw new UnsupportedRecurrence('BYDAY and BYMONTHDAY cannot be combined (Microsoft 365 has no such pattern)');
  const ordinal = byDay ? ordinalDays(byDay) : undefined;
  // RFC 5545's BYDAY=1MO,1WE is the first Monday and the first Wednesday: two a month. Graph's
  // relativeMonthly (relativeYearly) with several daysOfWeek and an index is the first day that
  // matches any of them: one a month (https://learn.microsoft.com/graph/api/resources/recurrencepattern).
  if (ordinal?.index !== undefined && ordinal.days.length > 1)
    throw new UnsupportedRecurrence(
      `BYDAY=${byDay!.join(',')} makes one occurrence per listed day, but Microsoft 365 would make one per month or year (the first day matching any): use one day per series`,
    );
  let pattern: GraphPatternedRecurrence['pattern'];
  switch (parts.get('FREQ')) {
    case 'DAILY':
      if (byDay || byMonthDay || byMonth)
        throw new UnsupportedRecurrence('a DAILY rule takes no BYDAY, BYMONTHDAY or BYMONTH (use WEEKLY with BYDAY)');
      pattern = { type: 'daily', interval };
      break;
    case 'WEEKLY':
      if (ordinal?.index !== undefined || byMonthDay || byMonth)
        throw new UnsupportedRecurrence('a WEEKLY rule takes only plain weekdays in BYDAY');
      pattern = {
        type: 'weekly',
        interval,
        daysOfWeek: ordinal?.days ?? [GRAPH_DAYS[LUXON_DAYS[first.weekday]!]!],
        // Sent always: Graph's default is sunday, RFC 5545's (and Google's) MO; with an INTERVAL
        // over 1 and a weekend day the two pick different weeks.
        firstDayOfWeek: GRAPH_DAYS[parts.get('WKST') ?? 'MO']!,
      };
      break;
    case 'MONTHLY':
      if (byMonth) throw new UnsupportedRecurrence('a MONTHLY rule takes no BYMONTH');
      pattern = ordinal
        ? { type: 'relativeMonthly', interval, daysOfWeek: ordinal.days, index: GRAPH_INDEX[ordinal.index ?? 1] }
        : { type: 'absoluteMonthly', interval, dayOfMonth: byMonthDay?.[0] ?? first.day };
      if (ordinal && ordinal.index === undefined)
        throw new UnsupportedRecurrence('a MONTHLY BYDAY needs an ordinal such as 2TU or -1FR');
      break;
    case 'YEARLY': {
      const month = byMonth?.[0] ?? first.month;
      if (ordinal && ordinal.index === undefined)
        throw new UnsupportedRecurrence('a YEARLY BYDAY needs an ordinal such as 1MO');
      pattern = ordinal
        ? { type: 'relativeYearly', interval, month, daysOfWeek: ordinal.days, index: GRAPH_INDEX[ordinal.index!] }
        : { type: 'absoluteYearly', interval, month, dayOfMonth: byMonthDay?.[0] ?? first.day };
      break;
    }
    default:
      throw new UnsupportedRecurrence('FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY');
  }
  // A day not in every month: RFC 5545 (Google) skips the months without it, Outlook moves the
  // occurrence to the month's last day. The two calendars would disagree, so neither gets it.
  if (pattern.type === 'absoluteMonthly' && pattern.dayOfMonth! > 28) {
    throw new UnsupportedRecurrence(
      `a monthly day must be 28 or less (day ${pattern.dayOfMonth} is not in every month: Google skips those months, Microsoft 365 moves the occurrence to their last day)`,
    );
  }
  if (pattern.type === 'absoluteYearly' && pattern.month === 2 && pattern.dayOfMonth === 29) {
    throw new UnsupportedRecurrence(
      'a yearly 29 February is not in every year (Google skips those years, Microsoft 365 moves the occurrence to 28 February)',
    );
  }
  const startDate = first.toISODate()!;
  const recurrenceTimeZone = graphZoneOf(first.zoneName ?? 'UTC');
  const count = parts.get('COUNT');
  const until = parts.get('UNTIL');
  if (count)
    return { pattern, range: { type: 'numbered', startDate, numberOfOccurrences: Number(count), recurrenceTimeZone } };
  if (until) {
    // A UTC UNTIL names an instant: its date in the series' zone; a floating one is already local.
    // Graph's endDate is a date: the last date whose occurrence starts by UNTIL (a UTC UNTIL in the series' zone).
    const limit =
      until.length === 8
        ? DateTime.fromFormat(until, 'yyyyMMdd', { zone: first.zone }).endOf('day')
        : until.endsWith('Z')
          ? DateTime.fromFormat(until, "yyyyMMdd'T'HHmmss'Z'", { zone: 'utc' }).setZone(first.zone)
          : DateTime.fromFormat(until, "yyyyMMdd'T'HHmmss", { zone: first.zone });
    const onLimitDay = limit.set({ hour: first.hour, minute: first.minute, second: first.second, millisecond: 0 });
    const endDate = (onLimitDay <= limit ? onLimitDay : onLimitDay.minus({ days: 1 })).toISODate()!;
    return { pattern, range: { type: 'endDate', startDate, endDate, recurrenceTimeZone } };
  }
  return { pattern, range: { type: 'noEnd', startDate, recurrenceTimeZone } };
}

/** Why Graph cannot hold the rule for a series starting at `first`, or undefined when it can. */
export function graphRecurrenceProblem(rule: string, first: DateTime): string | undefined {
  try {
    toGraphRecurrence(rule, first);
    return undefined;
  } catch (err) {
    if (err instanceof UnsupportedRecurrence) return err.message;
    throw err;
  }
}
