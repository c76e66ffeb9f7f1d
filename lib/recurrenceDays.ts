/**
 * The local dates a recurrence rule falls on, by calendar arithmetic: any stretch of a series is
 * computed directly, never by walking from its first occurrence (a daily series begun years ago
 * costs what its window holds). Covers the rule parts calsync accepts (lib/recurrence.ts
 * ALLOWED_PARTS) as RFC 5545 defines them; `undefined` for a combination it does not cover, which
 * the caller expands with ical.js instead. Dates are day numbers: days since 1970-01-01.
 */

const DAY_MS = 86400000;
const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];

/** Day number of a calendar date (month 1–12). */
export function dayNumber(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day) / DAY_MS;
}

/** Monday 0 … Sunday 6 (1970-01-01 was a Thursday). */
function weekdayOf(dn: number): number {
  return (((dn + 3) % 7) + 7) % 7;
}

function ymdOf(dn: number): { year: number; month: number; day: number } {
  const d = new Date(dn * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

interface ByDay {
  ordinal: number; // 0: every such weekday
  weekday: number;
}

/** The parts as numbers; undefined when a value is outside what the arithmetic handles. */
interface Rule {
  freq: 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';
  interval: number;
  byDay?: ByDay[];
  byMonthDay?: number[];
  byMonth?: Set<number>;
  wkst: number;
}

function parseRule(parts: Map<string, string>): Rule | undefined {
  const freq = parts.get('FREQ');
  if (freq !== 'DAILY' && freq !== 'WEEKLY' && freq !== 'MONTHLY' && freq !== 'YEARLY') return undefined;
  const interval = Number(parts.get('INTERVAL') ?? 1);
  if (!Number.isInteger(interval) || interval < 1) return undefined;
  const ints = (text: string) => text.split(',').map(Number);
  let byDay: ByDay[] | undefined;
  if (parts.has('BYDAY')) {
    byDay = [];
    for (const item of parts.get('BYDAY')!.split(',')) {
      const m = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/.exec(item);
      if (!m) return undefined;
      const ordinal = m[1] ? Number(m[1]) : 0;
      if (ordinal < -5 || ordinal > 5) return undefined;
      byDay.push({ ordinal, weekday: WEEKDAYS.indexOf(m[2]!) });
    }
  }
  const byMonthDay = parts.has('BYMONTHDAY') ? ints(parts.get('BYMONTHDAY')!) : undefined;
  if (byMonthDay?.some((d) => !Number.isInteger(d) || d === 0 || d < -31 || d > 31)) return undefined;
  const byMonth = parts.has('BYMONTH') ? new Set(ints(parts.get('BYMONTH')!)) : undefined;
  if (byMonth && [...byMonth].some((m) => !Number.isInteger(m) || m < 1 || m > 12)) return undefined;
  const wkst = WEEKDAYS.indexOf(parts.get('WKST') ?? 'MO');
  if (wkst < 0) return undefined;
  // Ordinal weekdays mean something only within a month (or a year's month): elsewhere ical.js decides.
  const ordinals = byDay?.some((d) => d.ordinal !== 0);
  if (ordinals && (freq === 'DAILY' || freq === 'WEEKLY')) return undefined;
  if (freq === 'YEARLY' && byDay && !byMonth) return undefined;
  if (freq === 'WEEKLY' && byMonthDay) return undefined;
  return { freq, interval, byDay, byMonthDay, byMonth, wkst };
}

/** The days of one month a MONTHLY (or YEARLY, per month) rule picks, sorted. */
function monthDays(rule: Rule, year: number, month: number, firstDay: number): number[] {
  const length = daysInMonth(year, month);
  const start = dayNumber(year, month, 1);
  let byMonthDay: Set<number> | undefined;
  if (rule.byMonthDay) {
    byMonthDay = new Set(
      rule.byMonthDay.map((d) => (d > 0 ? d : length + d + 1)).filter((d) => d >= 1 && d <= length), // a 31st in a short month is no day
    );
  }
  let days: number[];
  if (rule.byDay) {
    const picked = new Set<number>();
    for (const { ordinal, weekday } of rule.byDay) {
      const firstOfWeekday = 1 + ((weekday - weekdayOf(start) + 7) % 7);
      const all: number[] = [];
      for (let d = firstOfWeekday; d <= length; d += 7) all.push(d);
      if (ordinal === 0) all.forEach((d) => picked.add(d));
      else {
        const d = ordinal > 0 ? all[ordinal - 1] : all[all.length + ordinal];
        if (d !== undefined) picked.add(d);
      }
    }
    days = [...picked];
    if (byMonthDay) days = days.filter((d) => byMonthDay.has(d));
  } else if (byMonthDay) days = [...byMonthDay];
  else days = firstDay <= length ? [firstDay] : [];
  return days.sort((a, b) => a - b).map((d) => start + d - 1);
}

/**
 * Day numbers of the rule's occurrences in [fromDay, toDay], none before `firstDn` (the first
 * start's day, which itself counts: it is on the pattern, checked when the rule was accepted), in
 * order; undefined when the rule is beyond this arithmetic. COUNT and UNTIL are the caller's.
 */
export function ruleDays(
  parts: Map<string, string>,
  firstDn: number,
  fromDay: number,
  toDay: number,
): number[] | undefined {
  const rule = parseRule(parts);
  if (!rule) return undefined;
  const out: number[] = [];
  const from = Math.max(fromDay, firstDn);
  if (from > toDay) return out;
  const first = ymdOf(firstDn);
  const inMonths = (dn: number) => !rule.byMonth || rule.byMonth.has(ymdOf(dn).month);
  const push = (dn: number) => {
    if (dn >= from && dn <= toDay) out.push(dn);
  };
  switch (rule.freq) {
    case 'DAILY': {
      const weekdays = rule.byDay && new Set(rule.byDay.map((d) => d.weekday));
      const start = from + ((((firstDn - from) % rule.interval) + rule.interval) % rule.interval);
      for (let dn = start; dn <= toDay; dn += rule.interval) {
        if (weekdays && !weekdays.has(weekdayOf(dn))) continue;
        if (!inMonths(dn)) continue;
        if (rule.byMonthDay) {
          const { year, month, day } = ymdOf(dn);
          const length = daysInMonth(year, month);
          if (!rule.byMonthDay.some((d) => (d > 0 ? d : length + d + 1) === day)) continue;
        }
        out.push(dn);
      }
      return out;
    }
    case 'WEEKLY': {
      const weekdays = (rule.byDay?.map((d) => d.weekday) ?? [weekdayOf(firstDn)]).sort(
        (a, b) => ((a - rule.wkst + 7) % 7) - ((b - rule.wkst + 7) % 7),
      );
      const weekStart = (dn: number) => dn - ((weekdayOf(dn) - rule.wkst + 7) % 7);
      const firstWeek = weekStart(firstDn);
      const period = 7 * rule.interval;
      let week = weekStart(from);
      week += (((firstWeek - week) % period) + period) % period;
      if (week > weekStart(from)) week -= period; // the period holding `from` may have begun before it
      for (; week <= toDay; week += period)
        for (const weekday of weekdays) {
          const dn = week + ((weekday - rule.wkst + 7) % 7);
          if (inMonths(dn)) push(dn);
        }
      return out;
    }
    case 'MONTHLY': {
      const firstIndex = first.year * 12 + first.month - 1;
      const fromYmd = ymdOf(from);
      let index = fromYmd.year * 12 + fromYmd.month - 1;
      index -= (((index - firstIndex) % rule.interval) + rule.interval) % rule.interval;
      for (; dayNumber(Math.floor(index / 12), (index % 12) + 1, 1) <= toDay; index += rule.interval) {
        const [year, month] = [Math.floor(index / 12), (index % 12) + 1];
        if (rule.byMonth && !rule.byMonth.has(month)) continue;
        for (const dn of monthDays(rule, year, month, first.day)) push(dn);
      }
      return out;
    }
    case 'YEARLY': {
      const months = rule.byMonth ? [...rule.byMonth].sort((a, b) => a - b) : [first.month];
      let year = ymdOf(from).year;
      year -= (((year - first.year) % rule.interval) + rule.interval) % rule.interval;
      for (; dayNumber(year, 1, 1) <= toDay; year += rule.interval)
        for (const month of months) for (const dn of monthDays(rule, year, month, first.day)) push(dn);
      return out;
    }
  }
}

/** The values each BY* part may take (RFC 5545 §3.3.10); ical.js does not check them all, and loops on some. */
const RANGES: Record<string, [number, number]> = {
  BYSECOND: [0, 60],
  BYMINUTE: [0, 59],
  BYHOUR: [0, 23],
  BYMONTHDAY: [-31, 31],
  BYYEARDAY: [-366, 366],
  BYWEEKNO: [-53, 53],
  BYMONTH: [1, 12],
  BYSETPOS: [-366, 366],
};
/** A Gregorian cycle: a day pattern that matches no day in it matches none ever. */
const CYCLE_DAYS = 146097;

/** Why a rule's BY* values are out of range, or undefined. */
export function partsOutOfRange(parts: Map<string, string>): string | undefined {
  for (const [name, [min, max]] of Object.entries(RANGES)) {
    const values = parts.get(name)?.split(',');
    const bad = values?.find(
      (v) => !/^[+-]?\d{1,3}$/.test(v) || Number(v) < min || Number(v) > max || (Number(v) === 0 && min < 0),
    );
    if (bad !== undefined) return `${name}=${bad} is out of range`;
  }
  return undefined;
}

/**
 * Whether any day can match the rule's day parts (BYMONTH, BYMONTHDAY, BYYEARDAY, BYDAY's
 * weekdays, ISO BYWEEKNO): ical.js searches a DAILY, WEEKLY or sub-daily rule that can never
 * match (30 February) forever. Read loosely (ordinals ignored), so a rule said impossible is.
 */
export function anyDayMatches(parts: Map<string, string>): boolean {
  const ints = (name: string) => parts.get(name)?.split(',').map(Number);
  const months = ints('BYMONTH');
  const monthDays = ints('BYMONTHDAY');
  const yearDays = ints('BYYEARDAY');
  const weekNos = (parts.get('WKST') ?? 'MO') === 'MO' ? ints('BYWEEKNO') : undefined;
  const weekdays = parts
    .get('BYDAY')
    ?.split(',')
    .map((d) => WEEKDAYS.indexOf(d.slice(-2)));
  if (!months && !monthDays && !yearDays && !weekNos && !weekdays) return true;
  for (let dn = 0; dn < CYCLE_DAYS; dn++) {
    const { year, month, day } = ymdOf(dn);
    if (months && !months.includes(month)) continue;
    if (weekdays && !weekdays.includes(weekdayOf(dn))) continue;
    const length = daysInMonth(year, month);
    if (monthDays && !monthDays.some((d) => (d > 0 ? d : length + d + 1) === day)) continue;
    const yearLength = dayNumber(year + 1, 1, 1) - dayNumber(year, 1, 1);
    const yearDay = dn - dayNumber(year, 1, 1) + 1;
    if (yearDays && !yearDays.some((d) => (d > 0 ? d : yearLength + d + 1) === yearDay)) continue;
    if (weekNos) {
      // ISO week: the week (from Monday) holding the year's first Thursday is week 1.
      const thursday = dn - weekdayOf(dn) + 3;
      const isoYear = ymdOf(thursday).year;
      const week = Math.floor((thursday - dayNumber(isoYear, 1, 1)) / 7) + 1;
      const weeks =
        Math.floor(
          (dayNumber(isoYear, 12, 28) - weekdayOf(dayNumber(isoYear, 12, 28)) + 3 - dayNumber(isoYear, 1, 1)) / 7,
        ) + 1;
      if (!weekNos.some((w) => (w > 0 ? w : weeks + w + 1) === week)) continue;
    }
    return true;
  }
  return false;
}
