import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { expandResource } from '../providers/caldav/expand';

/**
 * A CalDAV resource's busy time in the import window, however old its series: the window's
 * occurrences come from the rule's arithmetic (or ical.js started near the window), never from a
 * walk from DTSTART that a step bound cuts short. Checked against ical.js expanding the whole series.
 */
describe('CalDAV series expanded in the import window', () => {
  const HOUR = 3600_000;
  const DAY = 24 * HOUR;
  const ics = (vevents: string[][], extra: string[] = []) =>
    ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...extra, ...vevents.flat(), 'END:VCALENDAR'].join('\r\n');
  const vevent = (lines: string[]) => [
    'BEGIN:VEVENT',
    'UID:s@test',
    'DTSTAMP:20260101T000000Z',
    ...lines,
    'END:VEVENT',
  ];
  const utc = (d: DateTime) => d.toUTC().toFormat("yyyyMMdd'T'HHmmss'Z'");
  const local = (d: DateTime) => d.toFormat("yyyyMMdd'T'HHmmss");
  const now = DateTime.fromISO('2026-12-06T10:20:00Z', { zone: 'utc' });
  const window = { start: now.minus({ days: 1 }).toJSDate(), end: now.plus({ days: 90 }).toJSDate() };
  const expand = (text: string, w = window, zone = 'UTC') => {
    const got = expandResource('s', text, w, zone);
    if (typeof got === 'string') throw new Error(got);
    return got;
  };
  const events = (text: string, w = window, zone = 'UTC') => {
    const got = expand(text, w, zone);
    return (Array.isArray(got) ? got : got.events)
      .map((e) => ({ start: e.start.toISOString(), end: e.end.toISOString() }))
      .sort((a, b) => a.start.localeCompare(b.start));
  };
  const incomplete = (text: string, w = window) => {
    const got = expand(text, w);
    return Array.isArray(got) ? undefined : got.incomplete;
  };
  /** Every occurrence start by ical.js from DTSTART, unbounded (the reference), overlapping the window. */
  const reference = (text: string, w = window, zone = 'UTC') => {
    const [master, ...overrides] = new ICAL.Component(ICAL.parse(text)).getAllSubcomponents('vevent');
    const event = new ICAL.Event(master, { exceptions: overrides.map((o) => new ICAL.Event(o)) });
    const out: Array<{ start: string; end: string }> = [];
    const at = (t: ICAL.Time) =>
      t.zone === ICAL.Timezone.localTimezone
        ? DateTime.fromObject(
            { year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second },
            { zone },
          ).toJSDate()
        : t.toJSDate();
    const iterator = event.iterator();
    for (let next = iterator.next(); next; next = iterator.next()) {
      const details = event.getOccurrenceDetails(next);
      const [start, end] = [at(details.startDate), at(details.endDate)];
      // Overrides may move an occurrence back by a year: stop well past the window.
      if (at(next).getTime() >= w.end.getTime() + 400 * DAY) break;
      const cancelled = details.item.component.getFirstPropertyValue('status') === 'CANCELLED';
      if (end > w.start && start < w.end && !cancelled)
        out.push({ start: start.toISOString(), end: end.toISOString() });
    }
    return out.sort((a, b) => a.start.localeCompare(b.start));
  };

  /** Every `step` from `first`, lasting `length`, overlapping the window: what a plain sub-daily rule means. */
  const steps = (first: DateTime, step: number, length: number, w = window, count = Infinity) => {
    const out: Array<{ start: string; end: string }> = [];
    const k0 = Math.max(0, Math.ceil((w.start.getTime() - length - first.toMillis()) / step));
    for (let k = k0; k < count; k++) {
      const start = first.toMillis() + k * step;
      if (start >= w.end.getTime()) break;
      if (start + length > w.start.getTime())
        out.push({ start: new Date(start).toISOString(), end: new Date(start + length).toISOString() });
    }
    return out;
  };

  test('an hourly series begun three years ago: every hour of the window is busy', () => {
    const first = now.minus({ years: 3 }).startOf('hour').plus({ minutes: 5 });
    const text = ics([
      vevent([
        `DTSTART:${utc(first)}`,
        `DTEND:${utc(first.plus({ minutes: 50 }))}`,
        'RRULE:FREQ=HOURLY',
        'SUMMARY:On call',
      ]),
    ]);
    const got = events(text);
    // 91 days of hours, and the one that began before the window and reaches into it.
    expect(got).toHaveLength(91 * 24 + 1);
    expect(got[0]!.start).toBe(now.minus({ days: 1 }).startOf('hour').plus({ minutes: 5 }).toISO());
    expect(got).toEqual(steps(first, HOUR, 50 * 60_000));
  });

  test('every 3 hours, every 90 minutes and every 7 minutes from years ago: jumped to the window by arithmetic', () => {
    const first = DateTime.fromISO('2021-03-14T01:02:03Z', { zone: 'utc' });
    const small = { start: window.start, end: new Date(window.start.getTime() + 3 * DAY) };
    for (const [rule, step, w] of [
      ['FREQ=HOURLY;INTERVAL=3', 3 * HOUR, window],
      ['FREQ=MINUTELY;INTERVAL=90', 90 * 60_000, window],
      ['FREQ=MINUTELY;INTERVAL=7', 7 * 60_000, small],
    ] as const) {
      const text = ics([
        vevent([`DTSTART:${utc(first)}`, `DTEND:${utc(first.plus({ minutes: 20 }))}`, `RRULE:${rule}`]),
      ]);
      expect({ rule, got: events(text, w) }).toEqual({ rule, got: steps(first, step, 20 * 60_000, w) });
    }
  });

  test('sub-daily rules with BY* limits, begun long enough ago to need a jump, match ical.js from their start', () => {
    const first = DateTime.fromISO('2026-05-04T08:20:00Z', { zone: 'utc' });
    for (const rule of [
      'FREQ=HOURLY;BYDAY=MO,WE;BYHOUR=8,9,17',
      'FREQ=HOURLY;INTERVAL=5;BYMONTH=12,1',
      'FREQ=MINUTELY;INTERVAL=15;BYHOUR=9,10;BYDAY=TU',
    ]) {
      const text = ics([
        vevent([`DTSTART:${utc(first)}`, `DTEND:${utc(first.plus({ minutes: 10 }))}`, `RRULE:${rule}`]),
      ]);
      const got = events(text);
      expect(got.length).toBeGreaterThan(10);
      expect({ rule, got }).toEqual({ rule, got: reference(text) });
    }
  });

  test('a daily series begun five years ago, in its own zone across DST changes, with an EXDATE in the window', () => {
    const first = DateTime.fromObject({ year: 2021, month: 11, day: 3, hour: 9 }, { zone: 'Europe/Madrid' });
    const excluded = DateTime.fromObject({ year: 2027, month: 1, day: 12, hour: 9 }, { zone: 'Europe/Madrid' });
    const text = ics([
      vevent([
        `DTSTART;TZID=Europe/Madrid:${local(first)}`,
        `DTEND;TZID=Europe/Madrid:${local(first.plus({ hours: 1 }))}`,
        'RRULE:FREQ=DAILY',
        `EXDATE;TZID=Europe/Madrid:${local(excluded)}`,
      ]),
    ]);
    // No VTIMEZONE: the TZID is read in the calendar's zone, as before. 200 days: both DST changes.
    const long = { start: window.start, end: now.plus({ days: 200 }).toJSDate() };
    const got = events(text, long, 'Europe/Madrid');
    expect(got.length).toBeGreaterThan(195);
    expect(got.map((e) => e.start)).not.toContain(excluded.toUTC().toISO());
    expect(got).toEqual(reference(text, long, 'Europe/Madrid'));
    expect(new Set(got.map((e) => DateTime.fromISO(e.start).setZone('Europe/Madrid').hour))).toEqual(new Set([9]));
  });

  test('overrides: one moved into the window from before it, one moved out of it, one cancelled', () => {
    const first = DateTime.fromISO('2020-01-06T08:00:00Z', { zone: 'utc' });
    const weekly = (n: number) => first.plus({ weeks: n });
    const before = Math.floor(now.minus({ days: 30 }).diff(first, 'weeks').weeks);
    const inside = Math.ceil(now.plus({ days: 10 }).diff(first, 'weeks').weeks);
    const text = ics([
      vevent([`DTSTART:${utc(first)}`, `DTEND:${utc(first.plus({ hours: 1 }))}`, 'RRULE:FREQ=WEEKLY']),
      // From a month before the window to its fourth day.
      vevent([
        `RECURRENCE-ID:${utc(weekly(before))}`,
        `DTSTART:${utc(now.plus({ days: 3 }).set({ hour: 15, minute: 0 }))}`,
        `DTEND:${utc(now.plus({ days: 3 }).set({ hour: 16, minute: 0 }))}`,
      ]),
      // From the window to a year later.
      vevent([
        `RECURRENCE-ID:${utc(weekly(inside))}`,
        `DTSTART:${utc(weekly(inside).plus({ years: 1 }))}`,
        `DTEND:${utc(weekly(inside).plus({ years: 1, hours: 1 }))}`,
      ]),
      vevent([
        `RECURRENCE-ID:${utc(weekly(inside + 1))}`,
        `DTSTART:${utc(weekly(inside + 1))}`,
        `DTEND:${utc(weekly(inside + 1).plus({ hours: 1 }))}`,
        'STATUS:CANCELLED',
      ]),
    ]);
    const got = events(text);
    const starts = got.map((e) => e.start);
    expect(starts).toContain(now.plus({ days: 3 }).set({ hour: 15, minute: 0 }).toISO());
    expect(starts).not.toContain(weekly(inside).toISO());
    expect(starts).not.toContain(weekly(inside + 1).toISO());
    const resource = expand(text);
    const moved = (Array.isArray(resource) ? resource : resource.events).find(
      (e) => e.start.getTime() === now.plus({ days: 3 }).set({ hour: 15, minute: 0 }).toMillis(),
    );
    // Named by the occurrence it was: the override's RECURRENCE-ID.
    expect(moved?.remoteId).toBe(`s#${weekly(before).toFormat("yyyy-MM-dd'T'HH:mm:ss")}Z`);
    expect(got).toEqual(reference(text));
  });

  test('RDATE in the window, EXDATE on DTSTART, COUNT and UNTIL honoured far from the start', () => {
    const first = DateTime.fromISO('2019-05-01T12:00:00Z', { zone: 'utc' });
    const extra = now.plus({ days: 5 }).set({ hour: 6, minute: 30, second: 0 });
    const text = ics([
      vevent([
        `DTSTART:${utc(first)}`,
        `DTEND:${utc(first.plus({ minutes: 30 }))}`,
        `RRULE:FREQ=DAILY;UNTIL=${utc(now.plus({ days: 20 }))}`,
        `RDATE:${utc(extra)}`,
        `EXDATE:${utc(first)}`,
      ]),
    ]);
    expect(events(text)).toEqual(reference(text));
    expect(events(text).map((e) => e.start)).toContain(extra.toISO());
    // Counted hours from May 2019 that end 40 days into the window.
    const count = Math.floor(now.plus({ days: 40 }).diff(first, 'hours').hours);
    const counted = ics([
      vevent([
        `DTSTART:${utc(first)}`,
        `DTEND:${utc(first.plus({ minutes: 30 }))}`,
        `RRULE:FREQ=HOURLY;COUNT=${count}`,
      ]),
    ]);
    const hourly = steps(first, HOUR, 30 * 60_000, window, count);
    expect(hourly.at(-1)!.start < window.end.toISOString()).toBe(true);
    expect(hourly.length).toBeLessThan(90 * 24);
    expect(events(counted)).toEqual(hourly);
  });

  test('rules beyond the arithmetic (BYHOUR, BYSETPOS, BYYEARDAY) from years ago match ical.js', () => {
    const first = DateTime.fromISO('2018-01-31T07:15:00Z', { zone: 'utc' });
    for (const rule of [
      'FREQ=DAILY;BYHOUR=7,13,19',
      'FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1',
      'FREQ=YEARLY;BYYEARDAY=1,50,100,200,300,360',
      'FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;BYHOUR=7,12',
    ]) {
      const text = ics([
        vevent([`DTSTART:${utc(first)}`, `DTEND:${utc(first.plus({ minutes: 45 }))}`, `RRULE:${rule}`]),
      ]);
      expect({ rule, got: events(text) }).toEqual({ rule, got: reference(text) });
    }
  });

  test('all-day series from years ago stay whole days in the calendar zone', () => {
    const text = ics([
      vevent(['DTSTART;VALUE=DATE:20150105', 'DTEND;VALUE=DATE:20150106', 'RRULE:FREQ=WEEKLY;BYDAY=MO,WE']),
    ]);
    const got = events(text, window, 'America/New_York');
    expect(got).toEqual(reference(text, window, 'America/New_York'));
    expect(got.length).toBeGreaterThan(20);
    expect(got[0]!.start.endsWith('T05:00:00.000Z')).toBe(true);
  });

  test('a series that cannot be brought near the window, or holds too many occurrences, says so instead of dropping quietly', () => {
    // Minutely within one hour a day and counted (a BY* limit and a COUNT: only a walk from its start can count), begun decades ago.
    const first = DateTime.fromISO('1990-01-01T09:00:00Z', { zone: 'utc' });
    const walked = ics([
      vevent([
        `DTSTART:${utc(first)}`,
        `DTEND:${utc(first.plus({ minutes: 1 }))}`,
        'RRULE:FREQ=MINUTELY;BYHOUR=9;COUNT=1000000',
      ]),
    ]);
    const started = Date.now();
    expect(incomplete(walked)).toMatch(/could not be expanded to the import window/);
    expect(Date.now() - started).toBeLessThan(2000);
    // Every second: far more than a series may hold in the window.
    const secondly = ics([
      vevent([`DTSTART:${utc(first)}`, `DTEND:${utc(first.plus({ seconds: 1 }))}`, 'RRULE:FREQ=SECONDLY']),
    ]);
    expect(incomplete(secondly)).toMatch(/more than 10000 occurrences/);
    const kept = events(secondly);
    expect(kept.length).toBeGreaterThan(1000);
    expect(kept.length).toBeLessThanOrEqual(10000);
    expect(kept[0]!.start).toBe(window.start.toISOString());
  });

  test('rules no day can match, which ical.js would search forever, give their first start only and take little time', () => {
    const first = DateTime.fromISO('2026-12-08T09:00:00Z', { zone: 'utc' });
    for (const rule of [
      'FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=9',
      'FREQ=DAILY;BYWEEKNO=1;BYMONTH=7',
      'FREQ=HOURLY;BYMONTH=4;BYMONTHDAY=31',
    ]) {
      const text = ics([vevent([`DTSTART:${utc(first)}`, `DTEND:${utc(first.plus({ hours: 1 }))}`, `RRULE:${rule}`])]);
      const started = Date.now();
      expect({ rule, got: events(text) }).toEqual({
        rule,
        got: [{ start: first.toISO(), end: first.plus({ hours: 1 }).toISO() }],
      });
      expect(Date.now() - started).toBeLessThan(1000);
    }
  });
});
