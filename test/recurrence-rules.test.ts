import { DateTime } from 'luxon';
import { occurrencesBetween, ruleProblem, seriesEnd, toGraphRecurrence } from '../lib/recurrence';

/** RRULE → Graph patternedRecurrence and the rule checks (pure functions: lib/recurrence.ts). */
describe('recurrence rules', () => {
  // Tuesday 2 March 2027, 10:00 in Madrid.
  const first = DateTime.fromISO('2027-03-02T10:00', { zone: 'Europe/Madrid' });

  test.each([
    ['FREQ=DAILY;INTERVAL=3;COUNT=5', { type: 'daily', interval: 3 }, { type: 'numbered', numberOfOccurrences: 5 }],
    ['FREQ=WEEKLY;BYDAY=TU,TH;WKST=MO', { type: 'weekly', interval: 1, daysOfWeek: ['tuesday', 'thursday'], firstDayOfWeek: 'monday' }, { type: 'noEnd' }],
    ['FREQ=WEEKLY', { type: 'weekly', interval: 1, daysOfWeek: ['tuesday'] }, { type: 'noEnd' }],
    ['FREQ=MONTHLY;BYMONTHDAY=2;UNTIL=20270702', { type: 'absoluteMonthly', interval: 1, dayOfMonth: 2 }, { type: 'endDate', endDate: '2027-07-02' }],
    ['FREQ=MONTHLY;BYDAY=1TU', { type: 'relativeMonthly', interval: 1, daysOfWeek: ['tuesday'], index: 'first' }, { type: 'noEnd' }],
    ['FREQ=YEARLY;BYMONTH=3;BYDAY=1TU', { type: 'relativeYearly', interval: 1, month: 3, daysOfWeek: ['tuesday'], index: 'first' }, { type: 'noEnd' }],
    ['FREQ=YEARLY', { type: 'absoluteYearly', interval: 1, month: 3, dayOfMonth: 2 }, { type: 'noEnd' }],
    // 08:00 UTC on 16 March is 09:00 in Madrid, before the 10:00 occurrence: the 16th is not in the range.
    ['FREQ=WEEKLY;BYDAY=TU;UNTIL=20270316T080000Z', { type: 'weekly', interval: 1 }, { type: 'endDate', endDate: '2027-03-15' }],
  ])('%s', (rule, pattern, range) => {
    expect(ruleProblem(rule, first)).toBeUndefined();
    const graph = toGraphRecurrence(rule, first);
    expect(graph.pattern).toMatchObject(pattern);
    expect(graph.range).toMatchObject({ ...range, startDate: '2027-03-02', recurrenceTimeZone: 'Europe/Madrid' });
  });

  test.each([
    ['FREQ=MINUTELY', 'FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY'],
    ['FREQ=MONTHLY;BYDAY=TU', 'a MONTHLY BYDAY needs an ordinal such as 2TU or -1FR'],
    ['FREQ=MONTHLY;BYDAY=1TU,2TH', 'BYDAY must use one ordinal for all its days (Microsoft 365 has one index per pattern)'],
    ['FREQ=MONTHLY;BYDAY=5TU', 'BYDAY ordinals must be 1 to 4 or -1 (Microsoft 365: first…fourth, last)'],
    ['FREQ=MONTHLY;BYMONTHDAY=2,16', 'BYMONTHDAY must be one positive day (Microsoft 365 holds one day of the month)'],
    ['FREQ=DAILY;BYHOUR=10', 'uses BYHOUR, which calendars cannot all hold (allowed: FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, WKST)'],
    ['FREQ=DAILY;COUNT=2;UNTIL=20270401', 'cannot have both COUNT and UNTIL'],
    ['FREQ=MONTHLY;BYMONTHDAY=3', "must include the appointment's start (start is not on the rule's pattern)"],
  ])('%s is refused', (rule, message) => {
    expect(ruleProblem(rule, first)).toBe(message);
  });

  test("a series ends with its last occurrence (a moved one included); without COUNT or UNTIL it never does", () => {
    const series = (rule: string, exceptions?: any[]) => ({
      start: '2027-03-02T09:00:00.000Z', end: '2027-03-02T10:00:00.000Z', timeZone: 'Europe/Madrid', recurrence: { rule, ...(exceptions ? { exceptions } : {}) },
    });
    // Five Tuesdays at 10:00 Madrid; after the DST change (28 March) that is 08:00 UTC.
    expect(seriesEnd(series('FREQ=WEEKLY;COUNT=5'))).toBe('2027-03-30T09:00:00.000Z');
    expect(seriesEnd(series('FREQ=WEEKLY;UNTIL=20270317T000000Z'))).toBe('2027-03-16T10:00:00.000Z');
    expect(seriesEnd(series('FREQ=WEEKLY'))).toBeNull();
    expect(seriesEnd(series('FREQ=DAILY;COUNT=5000'))).toBeNull(); // beyond what calsync expands
    expect(seriesEnd(series('FREQ=WEEKLY;COUNT=2', [{ originalDate: '2027-03-02', start: '2027-04-20T09:00:00.000Z', end: '2027-04-20T10:00:00.000Z' }]))).toBe('2027-04-20T10:00:00.000Z');
    expect(seriesEnd({ start: '2027-03-02T09:00:00.000Z', end: '2027-03-02T10:00:00.000Z', timeZone: 'UTC' })).toBe('2027-03-02T10:00:00.000Z');
  });

  test('occurrences keep their wall-clock time across DST, exceptions applied', () => {
    const start = first.toUTC().toISO()!;
    const end = first.plus({ hours: 1 }).toUTC().toISO()!;
    const shown = occurrencesBetween(
      { start, end, timeZone: 'Europe/Madrid', recurrence: { rule: 'FREQ=WEEKLY;COUNT=5', exceptions: [{ originalDate: '2027-03-16', cancelled: true }, { originalDate: '2027-03-23', title: 'Late' }] } },
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
});
