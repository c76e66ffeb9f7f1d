import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { recurrenceRuleProblem as ruleProblem } from '../api/recurrenceSchema';
import { isOccurrenceDate, movedOccurrenceClashes, occurrencesBetween, seriesEnd } from '../lib/recurrence';

/**
 * Series are expanded in the asked window only (issue 15): however old a series, every occurrence
 * in the window is there, and the work is the window's. Checked against ical.js expanding the same
 * rule from its first start, occurrence by occurrence.
 */
describe('recurrence expanded in a window', () => {
  const DAY = 86400000;

  /** Every occurrence start from the first, by ical.js alone (the reference), within [fromMs, toMs). */
  function reference(rule: string, first: DateTime, fromMs: number, toMs: number, allDay = false): string[] {
    const iterator = ICAL.Recur.fromString(rule).iterator(
      ICAL.Time.fromData({
        year: first.year,
        month: first.month,
        day: first.day,
        hour: first.hour,
        minute: first.minute,
        isDate: allDay,
      }),
    );
    const out: string[] = [];
    for (let t = iterator.next(); t; t = iterator.next()) {
      const at = DateTime.fromObject(
        { year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute },
        { zone: first.zone },
      );
      if (at.toMillis() >= toMs) break;
      if (at.toMillis() >= fromMs) out.push(at.toUTC().toISO()!);
    }
    return out;
  }

  const series = (rule: string, first: DateTime, minutes = 45, allDay = false) => ({
    start: first.toUTC().toISO()!,
    end: first
      .plus(allDay ? { days: 1 } : { minutes })
      .toUTC()
      .toISO()!,
    timeZone: first.zoneName!,
    allDay,
    recurrence: { rule },
  });

  test('a daily series begun in 2019 has every occurrence of a 62-day window in 2026', () => {
    const first = DateTime.fromISO('2019-01-07T09:30', { zone: 'Europe/Madrid' });
    const from = Date.parse('2026-03-01T00:00:00Z');
    const to = from + 62 * DAY;
    const shown = occurrencesBetween(series('FREQ=DAILY', first), from, to);
    expect(shown).toHaveLength(62);
    expect(shown.map((o) => o.start)).toEqual(reference('FREQ=DAILY', first, from - 45 * 60000 + 1, to));
    // Across the DST change (29 March 2026) the series stays at 09:30 in Madrid.
    expect(shown.find((o) => o.start.startsWith('2026-03-30'))!.start).toBe('2026-03-30T07:30:00.000Z');
  });

  test('an occurrence that began before the window and reaches into it counts', () => {
    const first = DateTime.fromISO('2020-06-01T23:00', { zone: 'UTC' });
    const from = Date.parse('2026-06-10T00:30:00Z');
    const shown = occurrencesBetween(series('FREQ=DAILY', first, 120), from, from + DAY);
    expect(shown[0]!.start).toBe('2026-06-09T23:00:00.000Z');
  });

  // Rules of every FREQ and part calsync allows, begun years before the window: the same occurrences
  // as expanding from the first start.
  const rules: Array<[string, string]> = [
    ['FREQ=DAILY;INTERVAL=3', '2018-02-28T08:00'],
    ['FREQ=DAILY;BYDAY=MO,WE,FR', '2018-02-28T08:00'],
    ['FREQ=DAILY;BYMONTH=3,4', '2018-03-01T08:00'],
    ['FREQ=WEEKLY', '2019-05-09T18:15'],
    ['FREQ=WEEKLY;INTERVAL=2;BYDAY=SA,SU', '2019-05-11T10:00'],
    ['FREQ=WEEKLY;INTERVAL=3;BYDAY=TU,SU;WKST=SU', '2019-05-12T10:00'],
    ['FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,SU;WKST=MO', '2019-05-12T10:00'],
    ['FREQ=MONTHLY', '2017-01-31T12:00'],
    ['FREQ=MONTHLY;INTERVAL=5', '2017-01-15T12:00'],
    ['FREQ=MONTHLY;BYMONTHDAY=31', '2017-01-31T12:00'],
    ['FREQ=MONTHLY;BYMONTHDAY=-1', '2017-01-31T12:00'],
    ['FREQ=MONTHLY;BYDAY=1MO,1WE', '2017-02-01T12:00'],
    ['FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR', '2017-03-31T12:00'],
    ['FREQ=MONTHLY;BYDAY=5MO', '2017-01-30T12:00'],
    ['FREQ=YEARLY', '2012-03-31T07:00'],
    ['FREQ=YEARLY;INTERVAL=2', '2011-07-04T07:00'],
    ['FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', '2011-03-27T07:00'],
    ['FREQ=YEARLY;BYMONTH=1,7;BYMONTHDAY=15', '2011-01-15T07:00'],
    ['FREQ=WEEKLY;UNTIL=20261020T000000Z', '2019-05-09T18:15'],
    ['FREQ=DAILY;COUNT=1000', '2024-01-01T08:00'],
    ['FREQ=WEEKLY;BYDAY=TU,TH;COUNT=900', '2019-01-01T08:00'],
  ];
  test.each(rules)('%s from %s: the same occurrences as from the start', (rule, firstText) => {
    for (const zone of ['Europe/Madrid', 'America/New_York', 'Asia/Kolkata']) {
      const first = DateTime.fromISO(firstText, { zone });
      for (const [fromText, days] of [
        ['2026-03-01', 62],
        ['2026-10-20', 62],
        ['2024-02-25', 10],
      ] as const) {
        const from = Date.parse(`${fromText}T00:00:00Z`);
        const to = from + days * DAY;
        const shown = occurrencesBetween(series(rule, first, 30), from, to).map((o) => o.start);
        expect({ zone, fromText, shown }).toEqual({
          zone,
          fromText,
          shown: reference(rule, first, from - 30 * 60000 + 1, to),
        });
      }
    }
  });

  test('all-day series too', () => {
    const first = DateTime.fromISO('2016-03-27', { zone: 'Europe/Madrid' });
    const from = Date.parse('2026-03-01T00:00:00Z');
    const shown = occurrencesBetween(series('FREQ=WEEKLY;BYDAY=SU', first, 0, true), from, from + 62 * DAY);
    expect(shown.map((o) => o.start)).toEqual(
      reference('FREQ=WEEKLY;BYDAY=SU', first, from - DAY + 1, from + 62 * DAY, true),
    );
    expect(shown).toHaveLength(9);
  });

  test('an occurrence moved into the window from years before it is shown; one moved out is not', () => {
    const first = DateTime.fromISO('2020-01-06T09:00', { zone: 'UTC' });
    const from = Date.parse('2026-03-02T00:00:00Z');
    const shown = occurrencesBetween(
      {
        ...series('FREQ=WEEKLY', first, 60),
        recurrence: {
          rule: 'FREQ=WEEKLY',
          exceptions: [
            { originalDate: '2020-01-13', start: '2026-03-04T12:00:00.000Z', end: '2026-03-04T13:00:00.000Z' },
            { originalDate: '2026-03-09', start: '2030-01-01T12:00:00.000Z', end: '2030-01-01T13:00:00.000Z' },
          ],
        },
      },
      from,
      from + 14 * DAY,
    );
    expect(shown.map((o) => o.start)).toEqual(['2026-03-02T09:00:00.000Z', '2026-03-04T12:00:00.000Z']);
  });

  test('an occurrence years after the first start is recognised; a moved one clashes with its neighbour then too', () => {
    const first = DateTime.fromISO('2020-01-06T09:00', { zone: 'UTC' });
    expect(isOccurrenceDate(series('FREQ=DAILY', first), '2029-12-31')).toBe(true);
    expect(isOccurrenceDate(series('FREQ=WEEKLY', first), '2029-12-31')).toBe(true);
    expect(isOccurrenceDate(series('FREQ=WEEKLY', first), '2029-12-30')).toBe(false);
    const clashes = movedOccurrenceClashes({
      ...series('FREQ=DAILY', first, 60),
      recurrence: {
        rule: 'FREQ=DAILY',
        exceptions: [
          { originalDate: '2029-12-31', start: '2030-01-01T08:30:00.000Z', end: '2030-01-01T09:30:00.000Z' },
        ],
      },
    });
    expect([...clashes]).toEqual([['2029-12-31', '2030-01-01']]);
  });

  test('a series ending by a far UNTIL ends at its last occurrence; COUNT is bounded and named', () => {
    const first = DateTime.fromISO('2020-01-06T09:00', { zone: 'Europe/Madrid' });
    expect(seriesEnd(series('FREQ=DAILY;UNTIL=20351231T235959Z', first, 60))).toBe('2035-12-31T09:00:00.000Z');
    expect(
      seriesEnd(series('FREQ=YEARLY;UNTIL=20350301', DateTime.fromISO('2020-02-29T09:00', { zone: 'UTC' }), 60)),
    ).toBe('2032-02-29T10:00:00.000Z');
    expect(seriesEnd(series('FREQ=DAILY;COUNT=1000', first, 60))).toBe('2022-10-01T08:00:00.000Z');
    expect(ruleProblem('FREQ=DAILY;COUNT=1001', first)).toBe(
      'COUNT may be at most 1000 (a longer series can end by UNTIL or not at all)',
    );
  });

  test("the work is the window's: 500 daily series begun in 2016 over 62 days take milliseconds", () => {
    const from = Date.parse('2026-03-01T00:00:00Z');
    const started = performance.now();
    let count = 0;
    for (let i = 0; i < 500; i++) {
      const first = DateTime.fromISO('2016-01-01T08:00', { zone: 'Europe/Madrid' }).plus({ minutes: 15 * (i % 40) });
      count += occurrencesBetween(series('FREQ=DAILY', first), from, from + 62 * DAY).length;
    }
    expect(count).toBe(500 * 62);
    // Expanding from 2016 was ~3,700 occurrences per series (and stopped at 1,000, empty).
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
