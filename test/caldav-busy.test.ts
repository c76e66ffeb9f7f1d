import { DateTime } from 'luxon';
import { caldav, staffWithCalDav } from './helpers/caldav';
import { busy, busyBecomes } from './helpers/busyImport';
import { waitUntil } from './helpers/api';
import { useAppStack } from './helpers/stack';
import { TenantWorld, testDb } from './helpers/world';

const POLL_MS = 1500;

/** A VCALENDAR of one VEVENT set, as a person's calendar app would PUT it. */
// Madrid's VTIMEZONE as Apple's Calendar writes it. RFC 5545 §3.6.5 requires one for every TZID; a
// resource without it also breaks Radicale for everyone: vobject then takes the zone from pytz and
// keeps that definition server-wide (the first one wins), and pytz's zone attached to a series' start
// gives every occurrence the start's offset, across DST changes, in every calendar on the server.
const MADRID = [
  'BEGIN:VTIMEZONE',
  'TZID:Europe/Madrid',
  'BEGIN:DAYLIGHT',
  'TZOFFSETFROM:+0100',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'DTSTART:19810329T020000',
  'TZNAME:CEST',
  'TZOFFSETTO:+0200',
  'END:DAYLIGHT',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0200',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'DTSTART:19961027T030000',
  'TZNAME:CET',
  'TZOFFSETTO:+0100',
  'END:STANDARD',
  'END:VTIMEZONE',
];
const ics = (vevents: string[]) =>
  [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//test//EN',
    ...(vevents.some((line) => line.includes('TZID=Europe/Madrid')) ? MADRID : []),
    ...vevents,
    'END:VCALENDAR',
    '',
  ].join('\r\n');

/**
 * Busy time imported from a CalDAV calendar by polling (sync-collection, multiget, local
 * expansion): events made straight in Radicale, as the staff member's own app would.
 */
describe('busy-time import from CalDAV (Radicale)', () => {
  const stack = useAppStack({
    OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
    IMPORT_POLL_INTERVAL_MS: String(POLL_MS),
    IMPORT_HORIZON_DAYS: '400',
  });

  test('a series with a moved and a cancelled occurrence, a free, an all-day and a deleted event; own events once; an invalid sync token loses nothing', async () => {
    // calendarMode primary: calsync writes into the same calendar it imports from, so its own events must not count twice.
    const world = await TenantWorld.create(stack.apiUrl, { calendarMode: 'primary', consentAccounts: 'any' });
    const account = caldav.createAccount('mia');
    const year = DateTime.now().year + 1;
    const personal = await caldav.makeCalendar(account, 'personal', 'Europe/Madrid');
    const mia = await staffWithCalDav(world, 'mia', account);
    expect(mia.calendarId).toBe('default');

    // Tuesdays 09:00 Madrid from 1 June: week 2 cancelled (EXDATE), week 3 moved to 12:00.
    const first = DateTime.fromObject({ year, month: 6, day: 1, hour: 9 }, { zone: 'Europe/Madrid' }).set({
      weekday: 2,
    });
    const local = (d: DateTime) => d.toFormat("yyyyMMdd'T'HHmmss");
    const date = (d: DateTime) => d.toFormat('yyyyMMdd');
    const week = (n: number) => first.plus({ weeks: n });
    await caldav.put(
      account,
      personal,
      'yoga',
      ics([
        'BEGIN:VEVENT',
        'UID:yoga@test',
        'DTSTAMP:20260101T000000Z',
        'SUMMARY:Yoga',
        `DTSTART;TZID=Europe/Madrid:${local(week(0))}`,
        `DTEND;TZID=Europe/Madrid:${local(week(0).plus({ hours: 1 }))}`,
        'RRULE:FREQ=WEEKLY;COUNT=4',
        `EXDATE;TZID=Europe/Madrid:${local(week(1))}`,
        'END:VEVENT',
        'BEGIN:VEVENT',
        'UID:yoga@test',
        'DTSTAMP:20260101T000000Z',
        'SUMMARY:Yoga (moved)',
        `RECURRENCE-ID;TZID=Europe/Madrid:${local(week(2))}`,
        `DTSTART;TZID=Europe/Madrid:${local(week(2).set({ hour: 12 }))}`,
        `DTEND;TZID=Europe/Madrid:${local(week(2).set({ hour: 13 }))}`,
        'END:VEVENT',
      ]),
    );
    const wednesday = first.plus({ days: 1 });
    const single = (uid: string, start: DateTime, end: DateTime, extra: string[] = []) =>
      ics([
        'BEGIN:VEVENT',
        `UID:${uid}@test`,
        'DTSTAMP:20260101T000000Z',
        `SUMMARY:${uid}`,
        `DTSTART;TZID=Europe/Madrid:${local(start)}`,
        `DTEND;TZID=Europe/Madrid:${local(end)}`,
        ...extra,
        'END:VEVENT',
      ]);
    await caldav.put(
      account,
      personal,
      'gym',
      single('gym', wednesday.set({ hour: 7 }), wednesday.set({ hour: 8 }), ['TRANSP:TRANSPARENT']),
    );
    await caldav.put(
      account,
      personal,
      'dentist',
      single('dentist', wednesday.set({ hour: 16 }), wednesday.set({ hour: 17 })),
    );
    await caldav.put(
      account,
      personal,
      'dropped',
      single('dropped', wednesday.set({ hour: 18 }), wednesday.set({ hour: 19 }), ['STATUS:CANCELLED']),
    );
    const thursday = first.plus({ days: 2 });
    await caldav.put(
      account,
      personal,
      'holiday',
      ics([
        'BEGIN:VEVENT',
        'UID:holiday@test',
        'DTSTAMP:20260101T000000Z',
        'SUMMARY:Holiday',
        `DTSTART;VALUE=DATE:${date(thursday)}`,
        `DTEND;VALUE=DATE:${date(thursday.plus({ days: 1 }))}`,
        'END:VEVENT',
      ]),
    );
    await caldav.put(
      account,
      personal,
      'gone',
      single('gone', wednesday.set({ hour: 10 }), wednesday.set({ hour: 11 })),
    );
    await caldav.remove(account, personal, 'gone');
    // One of calsync's own appointments in the same calendar: counted once, as the appointment.
    await world.put('cut', {
      revision: 1,
      staffIds: ['mia'],
      start: wednesday.set({ hour: 13 }).toFormat("yyyy-MM-dd'T'HH:mm:ss"),
      end: wednesday.set({ hour: 14 }).toFormat("yyyy-MM-dd'T'HH:mm:ss"),
    });
    await world.waitSynced('cut', 1);

    const iso = (d: DateTime) => d.toUTC().toISO({ suppressMilliseconds: true })!;
    const from = iso(first.startOf('day'));
    const to = iso(first.plus({ weeks: 5 }));
    const expected = [
      { start: iso(week(0)), end: iso(week(0).plus({ hours: 1 })), source: 'imported', showAs: 'busy' },
      { start: iso(wednesday.set({ hour: 13 })), end: iso(wednesday.set({ hour: 14 })), source: 'appointment' },
      {
        start: iso(wednesday.set({ hour: 16 })),
        end: iso(wednesday.set({ hour: 17 })),
        source: 'imported',
        showAs: 'busy',
      },
      // All day in the calendar's zone (Madrid): its midnights.
      {
        start: iso(thursday.startOf('day')),
        end: iso(thursday.plus({ days: 1 }).startOf('day')),
        source: 'imported',
        showAs: 'busy',
        allDay: true,
      },
      {
        start: iso(week(2).set({ hour: 12 })),
        end: iso(week(2).set({ hour: 13 })),
        source: 'imported',
        showAs: 'busy',
      },
      { start: iso(week(3)), end: iso(week(3).plus({ hours: 1 })), source: 'imported', showAs: 'busy' },
    ].sort((a, b) => a.start.localeCompare(b.start));
    const shape = (b: Awaited<ReturnType<typeof busy>>) =>
      b.intervals
        .filter((i) => i.showAs !== 'free')
        .map((i) => ({
          start: DateTime.fromISO(i.start).toUTC().toISO({ suppressMilliseconds: true }),
          end: DateTime.fromISO(i.end).toUTC().toISO({ suppressMilliseconds: true }),
          source: i.source,
          ...(i.showAs ? { showAs: i.showAs } : {}),
          ...(i.allDay ? { allDay: true } : {}),
        }))
        .sort((a, b) => a.start!.localeCompare(b.start!));
    await busyBecomes(world, 'mia', from, to, (b) => shape(b).length === expected.length, 20000).catch(() => undefined);
    expect(shape(await busy(world, 'mia', from, to))).toEqual(expected);

    // The server forgets the sync token (403 valid-sync-token): changes meanwhile arrive by a full pass.
    await caldav.remove(account, personal, 'dentist');
    await caldav.put(
      account,
      personal,
      'late',
      single('late', wednesday.set({ hour: 19 }), wednesday.set({ hour: 20 })),
    );
    const before = await testDb()('import_cursors').where({ link_id: mia.linkId }).first();
    await testDb()('import_cursors').where({ link_id: mia.linkId }).update({
      cursor: 'http://radicale.org/ns/sync/0000000000000000000000000000000000000000000000000000000000000000',
    });
    const after = [
      ...expected.filter((e) => e.start !== iso(wednesday.set({ hour: 16 }))),
      {
        start: iso(wednesday.set({ hour: 19 })),
        end: iso(wednesday.set({ hour: 20 })),
        source: 'imported',
        showAs: 'busy',
      },
    ].sort((a, b) => a.start.localeCompare(b.start));
    await waitUntil('the full pass', async () => {
      const row = await testDb()('import_cursors').where({ link_id: mia.linkId }).first();
      return row.full_syncs > before.full_syncs;
    });
    await busyBecomes(world, 'mia', from, to, (b) => JSON.stringify(shape(b)) === JSON.stringify(after), 10000).catch(
      () => undefined,
    );
    expect(shape(await busy(world, 'mia', from, to))).toEqual(after);
  });

  test('series begun years ago: an hourly one fills every hour, a daily one keeps its EXDATE, an override moved in from before the window counts; a series beyond the bound is flagged', async () => {
    const world = await TenantWorld.create(stack.apiUrl, { consentAccounts: 'any' });
    const account = caldav.createAccount('noa');
    const personal = await caldav.makeCalendar(account, 'personal', 'Europe/Madrid');
    const noa = await staffWithCalDav(world, 'noa', account);
    const utc = (d: DateTime) => d.toUTC().toFormat("yyyyMMdd'T'HHmmss'Z'");
    const local = (d: DateTime) => d.toFormat("yyyyMMdd'T'HHmmss");
    const day = DateTime.utc().startOf('day').plus({ days: 10 });
    const series = (uid: string, lines: string[], overrides: string[][] = []) =>
      ics([
        ...['BEGIN:VEVENT', `UID:${uid}@test`, 'DTSTAMP:20260101T000000Z', `SUMMARY:${uid}`, ...lines, 'END:VEVENT'],
        ...overrides.flatMap((o) => [
          'BEGIN:VEVENT',
          `UID:${uid}@test`,
          'DTSTAMP:20260101T000000Z',
          ...o,
          'END:VEVENT',
        ]),
      ]);
    // Half of every hour, for three years now.
    const hourly = day.minus({ years: 3 });
    await caldav.put(
      account,
      personal,
      'oncall',
      series('oncall', [`DTSTART:${utc(hourly)}`, 'DURATION:PT30M', 'RRULE:FREQ=HOURLY']),
    );
    // 07:40 in Madrid (the calendar's zone) every day for five years, but not on the second day.
    const daily = DateTime.fromObject(
      { year: day.year - 5, month: 3, day: 2, hour: 7, minute: 40 },
      { zone: 'Europe/Madrid' },
    );
    const skipped = day.plus({ days: 1 }).setZone('Europe/Madrid').set({ hour: 7, minute: 40 });
    await caldav.put(
      account,
      personal,
      'walk',
      series('walk', [
        `DTSTART;TZID=Europe/Madrid:${local(daily)}`,
        `DTEND;TZID=Europe/Madrid:${local(daily.plus({ minutes: 15 }))}`,
        'RRULE:FREQ=DAILY',
        `EXDATE;TZID=Europe/Madrid:${local(skipped)}`,
      ]),
    );
    // Weekly for four years on a weekday outside the two days; the one of about a month ago moved onto the second day.
    const weekly = day
      .plus({ days: 3 })
      .minus({ weeks: 4 * 52 })
      .set({ hour: 12 });
    const moved = weekly.plus({ weeks: 4 * 52 - 6 });
    const into = day.plus({ days: 1 }).set({ hour: 20, minute: 35 });
    await caldav.put(
      account,
      personal,
      'review',
      series(
        'review',
        [`DTSTART:${utc(weekly)}`, `DTEND:${utc(weekly.plus({ hours: 1 }))}`, 'RRULE:FREQ=WEEKLY'],
        [[`RECURRENCE-ID:${utc(moved)}`, `DTSTART:${utc(into)}`, `DTEND:${utc(into.plus({ minutes: 15 }))}`]],
      ),
    );
    // Every minute for the import window's last ten days: more than a series may hold. Bounded by
    // UNTIL: Radicale walks an unbounded minutely rule on its own, for minutes, and every later test
    // that asks it anything waits behind that.
    const flood = DateTime.utc().startOf('day').plus({ days: 390 });
    await caldav.put(
      account,
      personal,
      'flood',
      series('flood', [
        `DTSTART:${utc(flood)}`,
        'DURATION:PT1M',
        `RRULE:FREQ=MINUTELY;UNTIL=${utc(flood.plus({ days: 10 }))}`,
      ]),
    );

    const iso = (d: DateTime) => d.toUTC().toISO({ suppressMilliseconds: true })!;
    const expected = [
      ...Array.from({ length: 48 }, (_, h) => ({
        start: iso(day.plus({ hours: h })),
        end: iso(day.plus({ hours: h, minutes: 30 })),
      })),
      {
        start: iso(day.setZone('Europe/Madrid').set({ hour: 7, minute: 40 })),
        end: iso(day.setZone('Europe/Madrid').set({ hour: 7, minute: 55 })),
      },
      { start: iso(into), end: iso(into.plus({ minutes: 15 })) },
    ].sort((a, b) => a.start.localeCompare(b.start));
    const shape = (b: Awaited<ReturnType<typeof busy>>) =>
      b.intervals
        .map((i) => ({
          start: DateTime.fromISO(i.start).toUTC().toISO({ suppressMilliseconds: true }),
          end: DateTime.fromISO(i.end).toUTC().toISO({ suppressMilliseconds: true }),
        }))
        .sort((a, b) => a.start!.localeCompare(b.start!));
    const [from, to] = [iso(day), iso(day.plus({ days: 2 }))];
    await busyBecomes(world, 'noa', from, to, (b) => shape(b).length >= expected.length, 30000).catch(() => undefined);
    expect(shape(await busy(world, 'noa', from, to))).toEqual(expected);

    // The series cut at its bound is named in the calendar's import status, not dropped quietly.
    const status = await waitUntil('the problem shown', async () => {
      const body = (await world.call('GET', `/v1/links/${noa.linkId}/import`)).body;
      return body.calendars.some((c: { problems: unknown[] }) => c.problems.length > 0) && body;
    });
    expect(status.calendars.flatMap((c: { problems: unknown[] }) => c.problems)).toEqual([
      { remoteId: expect.stringContaining('flood'), reason: expect.stringMatching(/more than 10000 occurrences/) },
    ]);
  });
});
