import { DateTime } from 'luxon';
import { recurrenceRuleProblem as ruleProblem } from '../api/recurrenceSchema';
import { icalSeries, occurrencesBetween, seriesEnd } from '../lib/recurrence';
import { toGraphRecurrence } from '../providers/microsoft/recurrence';
import { googleInstanceBody, toGoogleEvent } from '../providers/google/eventMapping';
import { graphAllDayDate } from '../providers/microsoft/eventMapping';
import type { EventContent } from '../providers/types';

/** RRULE → Graph patternedRecurrence and the rule checks (pure functions: lib/recurrence.ts, providers/microsoft/recurrence.ts). */
describe('recurrence rules', () => {
  // Tuesday 2 March 2027, 10:00 in Madrid.
  const first = DateTime.fromISO('2027-03-02T10:00', { zone: 'Europe/Madrid' });

  test.each([
    ['FREQ=DAILY;INTERVAL=3;COUNT=5', { type: 'daily', interval: 3 }, { type: 'numbered', numberOfOccurrences: 5 }],
    [
      'FREQ=WEEKLY;BYDAY=TU,TH;WKST=MO',
      { type: 'weekly', interval: 1, daysOfWeek: ['tuesday', 'thursday'], firstDayOfWeek: 'monday' },
      { type: 'noEnd' },
    ],
    [
      'FREQ=WEEKLY',
      { type: 'weekly', interval: 1, daysOfWeek: ['tuesday'], firstDayOfWeek: 'monday' },
      { type: 'noEnd' },
    ],
    // RFC 5545's weeks start on Monday unless WKST says otherwise; Graph's on Sunday: always sent.
    [
      'FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU',
      { type: 'weekly', interval: 2, daysOfWeek: ['tuesday', 'sunday'], firstDayOfWeek: 'monday' },
      { type: 'noEnd' },
    ],
    [
      'FREQ=WEEKLY;BYDAY=TU;WKST=SU',
      { type: 'weekly', interval: 1, daysOfWeek: ['tuesday'], firstDayOfWeek: 'sunday' },
      { type: 'noEnd' },
    ],
    [
      'FREQ=MONTHLY;BYMONTHDAY=2;UNTIL=20270702',
      { type: 'absoluteMonthly', interval: 1, dayOfMonth: 2 },
      { type: 'endDate', endDate: '2027-07-02' },
    ],
    [
      'FREQ=MONTHLY;BYDAY=1TU',
      { type: 'relativeMonthly', interval: 1, daysOfWeek: ['tuesday'], index: 'first' },
      { type: 'noEnd' },
    ],
    [
      'FREQ=YEARLY;BYMONTH=3;BYDAY=1TU',
      { type: 'relativeYearly', interval: 1, month: 3, daysOfWeek: ['tuesday'], index: 'first' },
      { type: 'noEnd' },
    ],
    ['FREQ=YEARLY', { type: 'absoluteYearly', interval: 1, month: 3, dayOfMonth: 2 }, { type: 'noEnd' }],
    // 08:00 UTC on 16 March is 09:00 in Madrid, before the 10:00 occurrence: the 16th is not in the range.
    [
      'FREQ=WEEKLY;BYDAY=TU;UNTIL=20270316T080000Z',
      { type: 'weekly', interval: 1 },
      { type: 'endDate', endDate: '2027-03-15' },
    ],
  ])('%s', (rule, pattern, range) => {
    expect(ruleProblem(rule, first)).toBeUndefined();
    const graph = toGraphRecurrence(rule, first);
    expect(graph.pattern).toMatchObject(pattern);
    expect(graph.range).toMatchObject({
      ...range,
      startDate: '2027-03-02',
      recurrenceTimeZone: 'Romance Standard Time',
    });
  });

  test.each([
    ['FREQ=MINUTELY', 'FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY'],
    ['FREQ=MONTHLY;BYDAY=TU', 'a MONTHLY BYDAY needs an ordinal such as 2TU or -1FR'],
    [
      'FREQ=MONTHLY;BYDAY=1TU,2TH',
      'BYDAY must use one ordinal for all its days (Microsoft 365 has one index per pattern)',
    ],
    [
      'FREQ=MONTHLY;BYDAY=1TU,1WE',
      'BYDAY=1TU,1WE makes one occurrence per listed day, but Microsoft 365 would make one per month or year (the first day matching any): use one day per series',
    ],
    [
      'FREQ=YEARLY;BYMONTH=3;BYDAY=1TU,1FR',
      'BYDAY=1TU,1FR makes one occurrence per listed day, but Microsoft 365 would make one per month or year (the first day matching any): use one day per series',
    ],
    ['FREQ=MONTHLY;BYDAY=5TU', 'BYDAY ordinals must be 1 to 4 or -1 (Microsoft 365: first…fourth, last)'],
    ['FREQ=MONTHLY;BYMONTHDAY=2,16', 'BYMONTHDAY must be one positive day (Microsoft 365 holds one day of the month)'],
    [
      'FREQ=DAILY;BYHOUR=10',
      'uses BYHOUR, which calendars cannot all hold (allowed: FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, WKST)',
    ],
    ['FREQ=DAILY;COUNT=2;UNTIL=20270401', 'cannot have both COUNT and UNTIL'],
    ['FREQ=MONTHLY;BYMONTHDAY=3', "must include the appointment's start (start is not on the rule's pattern)"],
  ])('%s is refused', (rule, message) => {
    expect(ruleProblem(rule, first)).toBe(message);
  });

  test('a rule carrying anything but RRULE parts is refused: no iCalendar can be smuggled in', () => {
    for (const rule of [
      'FREQ=DAILY;COUNT=2\r\nEND:VEVENT\r\nBEGIN:VEVENT',
      'FREQ=DAILY;COUNT=2\nX',
      'FREQ=DAILY;X-A=B:C',
    ])
      expect(ruleProblem(rule, first)).toBe('may hold only RRULE parts: letters, digits and = ; , + -');
  });

  test('a day not in every month or year is refused: Google and Microsoft 365 would place it differently', () => {
    const on31 = DateTime.fromISO('2027-03-31T10:00', { zone: 'Europe/Madrid' });
    expect(ruleProblem('FREQ=MONTHLY', on31)).toBe(
      'a monthly day must be 28 or less (day 31 is not in every month: Google skips those months, Microsoft 365 moves the occurrence to their last day)',
    );
    expect(ruleProblem('FREQ=MONTHLY;BYMONTHDAY=31', on31)).toMatch(/^a monthly day must be 28 or less/);
    expect(ruleProblem('FREQ=YEARLY', on31)).toBeUndefined(); // every March has a 31st
    expect(ruleProblem('FREQ=YEARLY', DateTime.fromISO('2028-02-29T10:00', { zone: 'Europe/Madrid' }))).toMatch(
      /^a yearly 29 February is not in every year/,
    );
    expect(
      ruleProblem('FREQ=MONTHLY', DateTime.fromISO('2027-03-28T10:00', { zone: 'Europe/Madrid' })),
    ).toBeUndefined();
  });

  test('a series ends with its last occurrence (a moved one included); without COUNT or UNTIL it never does', () => {
    const series = (rule: string, exceptions?: any[]) => ({
      start: '2027-03-02T09:00:00.000Z',
      end: '2027-03-02T10:00:00.000Z',
      timeZone: 'Europe/Madrid',
      recurrence: { rule, ...(exceptions ? { exceptions } : {}) },
    });
    // Five Tuesdays at 10:00 Madrid; after the DST change (28 March) that is 08:00 UTC.
    expect(seriesEnd(series('FREQ=WEEKLY;COUNT=5'))).toBe('2027-03-30T09:00:00.000Z');
    expect(seriesEnd(series('FREQ=WEEKLY;UNTIL=20270317T000000Z'))).toBe('2027-03-16T10:00:00.000Z');
    expect(seriesEnd(series('FREQ=WEEKLY'))).toBeNull();
    // However far away: the last occurrence, not "never" (expansion used to stop at 1,000 occurrences).
    expect(seriesEnd(series('FREQ=DAILY;UNTIL=20400101T000000Z'))).toBe('2039-12-31T10:00:00.000Z');
    expect(
      seriesEnd(
        series('FREQ=WEEKLY;COUNT=2', [
          { originalDate: '2027-03-02', start: '2027-04-20T09:00:00.000Z', end: '2027-04-20T10:00:00.000Z' },
        ]),
      ),
    ).toBe('2027-04-20T10:00:00.000Z');
    expect(seriesEnd({ start: '2027-03-02T09:00:00.000Z', end: '2027-03-02T10:00:00.000Z', timeZone: 'UTC' })).toBe(
      '2027-03-02T10:00:00.000Z',
    );
  });

  test('occurrences keep their wall-clock time across DST, exceptions applied', () => {
    const start = first.toUTC().toISO()!;
    const end = first.plus({ hours: 1 }).toUTC().toISO()!;
    const shown = occurrencesBetween(
      {
        start,
        end,
        timeZone: 'Europe/Madrid',
        recurrence: {
          rule: 'FREQ=WEEKLY;COUNT=5',
          exceptions: [
            { originalDate: '2027-03-16', cancelled: true },
            { originalDate: '2027-03-23', title: 'Late' },
          ],
        },
      },
      Date.parse('2027-03-01T00:00:00Z'),
      Date.parse('2027-05-01T00:00:00Z'),
    );
    // Summer time starts on 28 March 2027: 10:00 in Madrid is then 08:00 UTC.
    expect(shown.map((o) => [o.start, o.title ?? null])).toEqual([
      ['2027-03-02T09:00:00.000Z', null],
      ['2027-03-09T09:00:00.000Z', null],
      ['2027-03-23T09:00:00.000Z', 'Late'],
      ['2027-03-30T08:00:00.000Z', null],
    ]);
  });

  describe('all-day series', () => {
    // Sundays from 21 March 2027, all day in Madrid; summer time starts on Sunday 28 March (a 23-hour day).
    const zone = 'Europe/Madrid';
    const midnight = (date: string) => DateTime.fromISO(date, { zone }).toUTC().toISO()!;
    const sundays = (rule: string, exceptions?: any[]) => ({
      start: midnight('2027-03-21'),
      end: midnight('2027-03-22'),
      timeZone: zone,
      allDay: true,
      recurrence: { rule, ...(exceptions ? { exceptions } : {}) },
    });

    test('a DATE start takes a DATE UNTIL only', () => {
      const first = DateTime.fromISO('2027-03-21', { zone });
      expect(ruleProblem('FREQ=WEEKLY;UNTIL=20270404', first, true)).toBeUndefined();
      expect(ruleProblem('FREQ=WEEKLY;UNTIL=20270404T000000Z', first, true)).toBe(
        'UNTIL of an all-day series must be a date such as UNTIL=20301231',
      );
      expect(toGraphRecurrence('FREQ=WEEKLY;UNTIL=20270404', first).range).toEqual({
        type: 'endDate',
        startDate: '2027-03-21',
        endDate: '2027-04-04',
        recurrenceTimeZone: 'Romance Standard Time',
      });
    });

    test('occurrences are whole local days, across DST too; a moved one keeps its own dates', () => {
      const shown = occurrencesBetween(
        sundays('FREQ=WEEKLY;COUNT=4', [
          { originalDate: '2027-04-04', cancelled: true },
          { originalDate: '2027-04-11', start: midnight('2027-04-12'), end: midnight('2027-04-14') },
        ]),
        Date.parse('2027-03-01T00:00:00Z'),
        Date.parse('2027-05-01T00:00:00Z'),
      );
      expect(shown.map((o) => [o.start, o.end])).toEqual([
        ['2027-03-20T23:00:00.000Z', '2027-03-21T23:00:00.000Z'],
        ['2027-03-27T23:00:00.000Z', '2027-03-28T22:00:00.000Z'], // 23 hours: still midnight to midnight
        ['2027-04-11T22:00:00.000Z', '2027-04-13T22:00:00.000Z'],
      ]);
    });

    test('the series ends at midnight after its last day', () => {
      expect(seriesEnd(sundays('FREQ=WEEKLY;COUNT=2'))).toBe('2027-03-28T22:00:00.000Z');
      expect(seriesEnd(sundays('FREQ=WEEKLY;UNTIL=20270404'))).toBe('2027-04-04T22:00:00.000Z');
    });

    test('iCalendar names its occurrences by date', () => {
      const series = icalSeries(
        sundays('FREQ=WEEKLY;COUNT=4', [
          { originalDate: '2027-03-28', cancelled: true },
          { originalDate: '2027-04-04', cancelled: true },
          { originalDate: '2027-04-11', start: midnight('2027-04-12'), end: midnight('2027-04-13') },
        ]),
      )!;
      expect(series.rule).toBe('FREQ=WEEKLY;COUNT=4');
      expect(series.exdates.map((d) => d.toISODate())).toEqual(['2027-03-28', '2027-04-04']);
      expect(series.changed.map((c) => [c.recurrenceId.toISODate(), c.start.toISODate(), c.end.toISODate()])).toEqual([
        ['2027-04-11', '2027-04-12', '2027-04-13'],
      ]);
    });

    test('an occurrence only retitled is a RECURRENCE-ID event at its own time, with its title', () => {
      const series = icalSeries(
        sundays('FREQ=WEEKLY;COUNT=4', [{ originalDate: '2027-04-04', title: 'Retreat (guest teacher)' }]),
      )!;
      expect(series).toMatchObject({ rule: 'FREQ=WEEKLY;COUNT=4', exdates: [] });
      expect(
        series.changed.map((c) => [c.recurrenceId.toISODate(), c.start.toISODate(), c.end.toISODate(), c.title]),
      ).toEqual([['2027-04-04', '2027-04-04', '2027-04-05', 'Retreat (guest teacher)']]);
    });

    test('Google: dates, EXDATE;VALUE=DATE and instance overrides named by date', () => {
      const content: EventContent = {
        summary: 'Retreat',
        description: '',
        start: '2027-03-21T00:00:00+01:00',
        end: '2027-03-22T00:00:00+01:00',
        timeZone: zone,
        tentative: false,
        cancelled: false,
        tags: {},
        allDay: true,
        recurrence: { rule: 'FREQ=WEEKLY;COUNT=4', cancelled: ['2027-03-28T00:00:00+01:00'], changed: [] },
      };
      const event = toGoogleEvent('abc123', content);
      expect([event.start, event.end, event.recurrence]).toEqual([
        { date: '2027-03-21' },
        { date: '2027-03-22' },
        ['RRULE:FREQ=WEEKLY;COUNT=4', 'EXDATE;VALUE=DATE:20270328'],
      ]);
      const instance = googleInstanceBody(event, 'abc123', '2027-04-04T00:00:00+02:00', content, {
        start: '2027-04-05T00:00:00+02:00',
        end: '2027-04-06T00:00:00+02:00',
      });
      expect([instance.id, instance.originalStartTime, instance.start, instance.end]).toEqual([
        'abc123_20270404',
        { date: '2027-04-04' },
        { date: '2027-04-05' },
        { date: '2027-04-06' },
      ]);
    });

    test("Graph's all-day times read the same whether shown floating or as the zone's midnight", () => {
      expect(graphAllDayDate({ dateTime: '2027-03-28T00:00:00.0000000', timeZone: 'UTC' }, zone)).toBe('2027-03-28');
      expect(graphAllDayDate({ dateTime: '2027-03-27T23:00:00.0000000', timeZone: 'UTC' }, zone)).toBe('2027-03-28');
      expect(graphAllDayDate({ dateTime: '2027-03-28T05:00:00.0000000', timeZone: 'UTC' }, 'America/New_York')).toBe(
        '2027-03-28',
      );
      expect(graphAllDayDate({ dateTime: '2027-03-28T00:00:00.0000000', timeZone: zone }, zone)).toBe('2027-03-28');
    });
  });
});
