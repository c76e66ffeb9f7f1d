import ICAL from 'ical.js';
import { DateTime } from 'luxon';

/** Neither provider expands a never-ending series without bound; this is the emulators' cap. */
export const MAX_OCCURRENCES = 1000;

/**
 * Start times of a series' occurrences up to `untilMs`, as wall-clock times in the first start's
 * zone (a 09:00 weekly meeting stays at 09:00 across a DST change). `rules` are RRULE values
 * without the `RRULE:` prefix, expanded by ical.js; `exdates` are instants to leave out.
 */
export function occurrenceStarts(first: DateTime, rules: string[], exdates: number[], untilMs: number): DateTime[] {
  const dtstart = ICAL.Time.fromData({
    year: first.year,
    month: first.month,
    day: first.day,
    hour: first.hour,
    minute: first.minute,
    second: first.second,
    isDate: false,
  });
  const found = new Map<number, DateTime>([[first.toMillis(), first]]);
  for (const rule of rules) {
    const iterator = ICAL.Recur.fromString(rule).iterator(dtstart);
    for (let n = 0; n < MAX_OCCURRENCES; n++) {
      const t = iterator.next();
      if (!t) break;
      const at = DateTime.fromObject(
        { year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second },
        { zone: first.zone },
      );
      if (at.toMillis() > untilMs) break;
      found.set(at.toMillis(), at);
    }
  }
  for (const ex of exdates) found.delete(ex);
  return [...found.values()]
    .filter((d) => d.toMillis() <= untilMs)
    .sort((a, b) => a.toMillis() - b.toMillis())
    .slice(0, MAX_OCCURRENCES);
}

/**
 * Instants of `EXDATE` lines (`EXDATE;TZID=Europe/Berlin:20261201T100000`, `EXDATE:20261201T090000Z`,
 * `EXDATE;VALUE=DATE:20261201`) of a series whose start is a date (`allDay`) or a date-time. A value
 * of the other type matches no occurrence: RFC 5545 wants EXDATE of the start's value type.
 */
export function exdateInstants(lines: string[], defaultZone: string, allDay = false): number[] {
  const out: number[] = [];
  for (const line of lines) {
    const match = /^EXDATE((?:;[^:]*)?):(.*)$/i.exec(line);
    if (!match) continue;
    const zone = /;TZID=([^;:]+)/i.exec(match[1] ?? '')?.[1] ?? defaultZone;
    for (const value of match[2]!.split(',')) {
      const v = value.trim();
      if (v.includes('T') === allDay) continue;
      const parsed = v.endsWith('Z')
        ? DateTime.fromFormat(v, "yyyyMMdd'T'HHmmss'Z'", { zone: 'UTC' })
        : v.includes('T')
          ? DateTime.fromFormat(v, "yyyyMMdd'T'HHmmss", { zone })
          : DateTime.fromFormat(v, 'yyyyMMdd', { zone });
      if (parsed.isValid) out.push(parsed.toMillis());
    }
  }
  return out;
}
