import fc from 'fast-check';
import { DateTime } from 'luxon';
import { availabilityCheckSchema, busyQuerySchema } from '../api/schemas';

/**
 * A busy read's window is parsed with luxon in a zone whose offsets are kept (lib/isoInZone.ts
 * `keptZone`), not asked of Intl on every call. It must accept, refuse and place exactly what
 * luxon with the zone's name does: times in DST gaps and overlaps, 30-minute and 2-hour DST
 * changes, a skipped day, windows a minute either side of 62 days.
 */
const ZONES = [
  'UTC',
  'Europe/Madrid',
  'America/New_York',
  'Australia/Lord_Howe',
  'Antarctica/Troll',
  'Pacific/Apia',
  'Asia/Kolkata',
  'America/Sao_Paulo',
];

/** What the window was before: luxon with the zone's name, the 62-day rule by its `diff`. */
function reference(from: string, to: string, zone: string): [number, number] | string {
  const [a, b] = [from, to].map((t) => DateTime.fromISO(t, { zone }));
  if (!a!.isValid || !b!.isValid) return 'invalid';
  if (b! <= a!) return 'order';
  if (b!.diff(a!, 'days').days > 62) return 'too long';
  return [a!.toMillis(), b!.toMillis()];
}

function parsed(from: string, to: string, zone: string): [number, number] | string {
  const res = busyQuerySchema.safeParse({ from, to, timeZone: zone });
  if (res.success) return [res.data.from.getTime(), res.data.to.getTime()];
  const message = res.error.issues[0]!.message;
  return /valid/.test(message) ? 'invalid' : /after/.test(message) && !/62/.test(message) ? 'order' : 'too long';
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

// Local times around DST changes and the day Samoa skipped (30 December 2011), with or without an
// offset; the second of a pair within about 64 days of the first, so most pairs are windows to check.
const dateTimeText = (year: number, month: number, day: number) =>
  fc
    .record({
      hour: fc.integer({ min: 0, max: 24 }),
      minute: fc.constantFrom(0, 1, 15, 29, 30, 59),
      second: fc.option(fc.constantFrom(0, 30, 59), { nil: undefined }),
      millis: fc.option(fc.constantFrom('5', '250', '999999999'), { nil: undefined }),
      offset: fc.option(fc.constantFrom('Z', '+02:00', '-0330', '+00:00', '-00:30', '+14:00'), { nil: undefined }),
    })
    .map(({ hour, minute, second, millis, offset }) => {
      const secs = second === undefined ? '' : `:${pad(second)}${millis === undefined ? '' : `.${millis}`}`;
      return `${year}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}${secs}${offset ?? ''}`;
    });
const window = fc
  .record({
    year: fc.constantFrom(2011, 2026, 2027),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 31 }),
    days: fc.integer({ min: 0, max: 64 }),
  })
  .chain(({ year, month, day, days }) => {
    const later = new Date(Date.UTC(year, month - 1, Math.min(day, 28) + days));
    return fc.tuple(
      dateTimeText(year, month, day),
      dateTimeText(later.getUTCFullYear(), later.getUTCMonth() + 1, later.getUTCDate()),
    );
  });

describe('busy and check windows in a kept zone', () => {
  test('any two date-times: the same instants, the same refusals as luxon by the zone name', () => {
    fc.assert(
      fc.property(window, fc.constantFrom(...ZONES), ([from, to], zone) => {
        expect(parsed(from, to, zone)).toEqual(reference(from, to, zone));
      }),
      { numRuns: 3000 },
    );
  });

  test('windows of 62 days give or take a minute, across DST changes and the skipped day', () => {
    for (const zone of ZONES)
      for (const start of ['2011-11-01T00:00', '2026-02-01T02:30', '2026-08-30T02:30', '2026-03-01T00:00']) {
        const first = DateTime.fromISO(start, { zone });
        for (const minutes of [-61, -1, 0, 1, 61]) {
          const last = first.plus({ days: 62, minutes });
          for (const to of [last.toISO()!, last.toFormat("yyyy-MM-dd'T'HH:mm")])
            expect([zone, start, to, parsed(start, to, zone)]).toEqual([zone, start, to, reference(start, to, zone)]);
        }
      }
  });

  test('the availability check reads its slot the same way (a time in the DST gap)', () => {
    const res = availabilityCheckSchema.parse({
      start: '2026-03-29T02:30',
      end: '2026-03-29T04:00',
      timeZone: 'Europe/Madrid',
    });
    expect([res.start.getTime(), res.end.getTime()]).toEqual(
      reference('2026-03-29T02:30', '2026-03-29T04:00', 'Europe/Madrid'),
    );
  });
});
