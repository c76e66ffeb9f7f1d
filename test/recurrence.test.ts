import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { controlCall, googleEmulator, microsoftEmulator } from './helpers/emulator';
import { waitUntil } from './helpers/api';
import { useAppStack } from './helpers/stack';
import { TenantWorld, testDb } from './helpers/world';

const ZONE = 'Europe/Madrid';
const googleControl = controlCall(() => process.env.GOOGLE_EMULATOR_URL!);
const graphControl = controlCall(() => process.env.MICROSOFT_EMULATOR_URL!);

/** What a calendar shows of one occurrence: its original date, its local start–end and its title. */
type Shown = [original: string, start: string, end: string, title: string];
const local = (iso: string, zone = 'utc') =>
  DateTime.fromISO(iso, { zone }).setZone(ZONE).toFormat("yyyy-MM-dd'T'HH:mm");

/** events.instances of the Google emulator (exceptions in place, cancelled ones absent). */
async function googleInstances(calendarId: string, eventId: string): Promise<Shown[]> {
  const page = await googleControl<{ items: any[] }>(
    'GET',
    `/_emulator/calendars/${encodeURIComponent(calendarId)}/events/${eventId}/instances`,
  );
  return page.items.map((i) => [
    local(i.originalStartTime.dateTime).slice(0, 10),
    local(i.start.dateTime),
    local(i.end.dateTime),
    i.summary,
  ]);
}

/** The Graph emulator's occurrences of a series in a window (as calendarView shows them). */
async function graphInstances(email: string, seriesId: string, from: DateTime, to: DateTime): Promise<Shown[]> {
  const page = await graphControl<{ items: any[] }>(
    'GET',
    `/_emulator/users/${encodeURIComponent(email)}/calendars/calendar/events/${encodeURIComponent(seriesId)}/instances?from=${encodeURIComponent(from.toISO()!)}&to=${encodeURIComponent(to.toISO()!)}`,
  );
  return page.items
    .map((i): Shown => [local(i.originalStart).slice(0, 10), local(i.start.dateTime), local(i.end.dateTime), i.subject])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

/** What a calendar shows of one all-day occurrence: its original date, its first and last (exclusive) dates, its title. */
type ShownDays = [original: string, start: string, end: string, title: string];
const localDate = (iso: string) => {
  const at = DateTime.fromISO(iso, { zone: 'utc' }).setZone(ZONE);
  if (at.toFormat('HH:mm') !== '00:00') throw new Error(`an all-day time that is not a local midnight: ${iso}`);
  return at.toISODate()!;
};

async function googleAllDayInstances(calendarId: string, eventId: string): Promise<ShownDays[]> {
  const page = await googleControl<{ items: any[] }>(
    'GET',
    `/_emulator/calendars/${encodeURIComponent(calendarId)}/events/${eventId}/instances`,
  );
  return page.items.map((i) => [i.originalStartTime.date, i.start.date, i.end.date, i.summary]);
}

async function graphAllDayInstances(
  email: string,
  seriesId: string,
  from: DateTime,
  to: DateTime,
): Promise<ShownDays[]> {
  const page = await graphControl<{ items: any[] }>(
    'GET',
    `/_emulator/users/${encodeURIComponent(email)}/calendars/calendar/events/${encodeURIComponent(seriesId)}/instances?from=${encodeURIComponent(from.toISO()!)}&to=${encodeURIComponent(to.toISO()!)}`,
  );
  return page.items
    .map((i): ShownDays => {
      expect(i.isAllDay).toBe(true);
      return [localDate(i.originalStart), localDate(i.start.dateTime), localDate(i.end.dateTime), i.subject];
    })
    .sort((a, b) => a[0].localeCompare(b[0]));
}

/** API → appointmentSync → Google (series + EXDATE + instance overrides) and Graph (seriesMaster + occurrence exceptions). */
describe('recurring appointments', () => {
  const stack = useAppStack();

  test('bad recurrences are 400s that name the field', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    await world.call('PUT', '/v1/staff/anna', { name: 'Anna' });
    const first = DateTime.now()
      .setZone(ZONE)
      .plus({ days: 7 })
      .set({ hour: 10, minute: 0, second: 0, millisecond: 0 });
    const day = ['', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'][first.weekday];
    const body = (recurrence: unknown) => ({
      revision: 1,
      start: first.toFormat("yyyy-MM-dd'T'HH:mm"),
      end: first.plus({ hours: 1 }).toFormat("yyyy-MM-dd'T'HH:mm"),
      timeZone: ZONE,
      title: 'Haircut',
      staffIds: ['anna'],
      recurrence,
    });
    const put = async (recurrence: unknown) => {
      const res = await world.call('PUT', '/v1/appointments/r-bad', body(recurrence));
      return [res.status, res.body.message];
    };
    expect(await put({ rrule: 'FREQ=WEEKLY;BYDAY=XX' })).toEqual([
      400,
      'recurrence.rrule: is not a valid RRULE (invalid BYDAY value "XX")',
    ]);
    expect(await put({ rrule: 'FREQ=HOURLY' })).toEqual([
      400,
      'recurrence.rrule: FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY',
    ]);
    expect((await put({ rrule: `FREQ=MONTHLY;BYSETPOS=1;BYDAY=${day}` }))[1]).toMatch(
      /^recurrence\.rrule: uses BYSETPOS, which calendars cannot all hold/,
    );
    expect((await put({ rrule: `FREQ=WEEKLY;BYDAY=1${day}` }))[1]).toBe(
      'recurrence.rrule: a WEEKLY rule takes only plain weekdays in BYDAY',
    );
    const otherDay = day === 'MO' ? 'TU' : 'MO';
    expect(await put({ rrule: `FREQ=WEEKLY;BYDAY=${otherDay}` })).toEqual([
      400,
      "recurrence.rrule: must include the appointment's start (start is not on the rule's pattern)",
    ]);
    const notAnOccurrence = first.plus({ days: 8 }).toISODate();
    expect(
      await put({
        rrule: `FREQ=WEEKLY;BYDAY=${day}`,
        exceptions: [{ originalStart: notAnOccurrence, cancelled: true }],
      }),
    ).toEqual([
      400,
      `recurrence.exceptions[0].originalStart: is not an occurrence of the series (no occurrence on ${notAnOccurrence})`,
    ]);
    expect(
      (
        await put({
          rrule: `FREQ=WEEKLY;BYDAY=${day}`,
          exceptions: [{ originalStart: first.plus({ days: 7 }).toISO(), cancelled: true, title: 'x' }],
        })
      )[1],
    ).toBe('recurrence.exceptions[0].cancelled: a cancelled occurrence takes no start, end or title');
    // What Microsoft 365 refuses, refused up front: occurrences that run into each other, and an occurrence moved onto or past its neighbour.
    const long = await world.call('PUT', '/v1/appointments/r-bad', {
      ...body({ rrule: 'FREQ=DAILY' }),
      end: first.plus({ hours: 25 }).toFormat("yyyy-MM-dd'T'HH:mm"),
    });
    expect([long.status, long.body.message]).toEqual([
      400,
      'end: makes each occurrence run into the next one; an occurrence must end by the time the next starts (Microsoft 365 refuses overlapping occurrences)',
    ]);
    const fmt = (d: DateTime) => d.toFormat("yyyy-MM-dd'T'HH:mm");
    const pastNext = {
      originalStart: first.plus({ weeks: 1 }).toISODate(),
      start: fmt(first.plus({ weeks: 2, hours: 2 })),
    };
    expect(await put({ rrule: `FREQ=WEEKLY;BYDAY=${day}`, exceptions: [pastNext] })).toEqual([
      400,
      `recurrence.exceptions[0].start: moves the occurrence onto or past the occurrence of ${first.plus({ weeks: 2 }).toISODate()}; a moved occurrence must stay between its neighbours (Microsoft 365 keeps occurrences in order and apart)`,
    ]);
    const ontoPrevious = {
      originalStart: first.plus({ weeks: 1 }).toISODate(),
      start: fmt(first.plus({ minutes: 30 })),
    };
    expect((await put({ rrule: `FREQ=WEEKLY;BYDAY=${day}`, exceptions: [ontoPrevious] }))[1]).toMatch(
      /^recurrence\.exceptions\[0\]\.start: moves the occurrence onto or past the occurrence of /,
    );
    // With the next occurrence cancelled, the moved one may take its week.
    const intoCancelled = [pastNext, { originalStart: first.plus({ weeks: 2 }).toISODate(), cancelled: true }];
    expect(
      (
        await world.call(
          'PUT',
          '/v1/appointments/r-ok',
          body({ rrule: `FREQ=WEEKLY;BYDAY=${day};COUNT=4`, exceptions: intoCancelled }),
        )
      ).status,
    ).toBe(202);
    expect((await world.call('GET', '/v1/appointments/r-bad')).status).toBe(404);
  });

  test('a weekly appointment with a moved and a cancelled occurrence, in Google and Microsoft calendars; series edits keep the exceptions', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const anna = await world.staffWithGoogle('anna');
    const ben = await world.staffWithMicrosoft('ben');

    // Six weekly visits at 10:00 from a week ahead; the second moves to the next day 15:00, the third is cancelled.
    const first = DateTime.now()
      .setZone(ZONE)
      .plus({ days: 7 })
      .set({ hour: 10, minute: 0, second: 0, millisecond: 0 });
    const day = ['', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'][first.weekday];
    const week = (n: number) => first.plus({ weeks: n });
    const fmt = (d: DateTime) => d.toFormat("yyyy-MM-dd'T'HH:mm");
    const moved = week(1).plus({ days: 1 }).set({ hour: 15 });
    const exceptions = [
      {
        originalStart: week(1).toISO(),
        start: fmt(moved),
        end: fmt(moved.plus({ hours: 1 })),
        title: 'Haircut (moved)',
      },
      { originalStart: week(2).toISO(), cancelled: true },
    ];
    const body = (revision: number, hour: number, title: string, extra: unknown[] = []) => ({
      revision,
      start: fmt(first.set({ hour })),
      end: fmt(first.set({ hour: hour + 1 })),
      timeZone: ZONE,
      title,
      clientName: 'Ana García',
      staffIds: ['anna', 'ben'],
      recurrence: { rrule: `FREQ=WEEKLY;BYDAY=${day};COUNT=6`, exceptions: [...exceptions, ...extra] },
    });
    const put = await world.call('PUT', '/v1/appointments/r-1', body(1, 10, 'Haircut'));
    expect(put.status).toBe(202);
    await world.waitSynced('r-1', 1);

    const onPattern = (n: number, hour: number, title: string): Shown => [
      week(n).toISODate()!,
      fmt(week(n).set({ hour })),
      fmt(week(n).set({ hour: hour + 1 })),
      title,
    ];
    const movedShown: Shown = [
      week(1).toISODate()!,
      fmt(moved),
      fmt(moved.plus({ hours: 1 })),
      'Haircut (moved) – Ana García',
    ];
    const expected = (hour: number, title: string): Shown[] => [
      onPattern(0, hour, title),
      movedShown,
      onPattern(3, hour, title),
      onPattern(4, hour, title),
      onPattern(5, hour, title),
    ];

    // Google: one recurring event (RRULE + EXDATE), the moved occurrence an instance override.
    const googleSeries = async () => {
      const live = (
        await googleControl<{ items: any[] }>(
          'GET',
          `/_emulator/calendars/${encodeURIComponent(anna.calendarId)}/events`,
        )
      ).items.filter((e) => e.status !== 'cancelled');
      return { master: live.filter((e) => !e.recurringEventId), overrides: live.filter((e) => e.recurringEventId) };
    };
    const { master, overrides } = await googleSeries();
    expect(master).toHaveLength(1);
    expect(master[0].recurrence).toEqual([
      `RRULE:FREQ=WEEKLY;BYDAY=${day};COUNT=6`,
      `EXDATE;TZID=${ZONE}:${week(2).toFormat("yyyyMMdd'T'HHmmss")}`,
    ]);
    expect(overrides.map((o: any) => [o.id, o.recurringEventId])).toEqual([
      [`${master[0].id}_${week(1).toUTC().toFormat("yyyyMMdd'T'HHmmss'Z'")}`, master[0].id],
    ]);
    expect(await googleInstances(anna.calendarId, master[0].id)).toEqual(expected(10, 'Haircut – Ana García'));

    // Microsoft: one seriesMaster with a weekly pattern, the moved occurrence an exception, the cancelled one gone.
    const graphEvents = await microsoftEmulator.events(ben.email);
    expect(graphEvents).toHaveLength(1);
    const series = graphEvents[0]! as any;
    expect(series.recurrence).toMatchObject({
      pattern: { type: 'weekly', interval: 1, daysOfWeek: [first.setLocale('en').weekdayLong!.toLowerCase()] },
      range: { type: 'numbered', numberOfOccurrences: 6, startDate: first.toISODate() },
    });
    const windowFrom = first.minus({ days: 1 });
    const windowTo = first.plus({ weeks: 8 });
    expect(await graphInstances(ben.email, series.id, windowFrom, windowTo)).toEqual(
      expected(10, 'Haircut – Ana García'),
    );

    // Busy time counts the occurrences (the moved one at its new time, not the cancelled one).
    const busy = await world.call(
      'GET',
      `/v1/staff/anna/busy?from=${encodeURIComponent(windowFrom.toISO()!)}&to=${encodeURIComponent(windowTo.toISO()!)}&timeZone=${ZONE}`,
    );
    expect(busy.status).toBe(200);
    expect(
      busy.body.intervals.filter((i: any) => i.source === 'appointment').map((i: any) => local(i.start, ZONE)),
    ).toEqual(expected(10, '').map((s) => s[1]));

    // Ben's busy time too; the import brings the series' occurrences back from Outlook (Graph's delta
    // has no extended properties), and they are known as calsync's own by their series id.
    await waitUntil('the import saw the series', async () => {
      const row = await testDb()('imported_busy')
        .where({ tenant_id: world.tenantId, staff_id: 'ben' })
        .count('* as n')
        .first();
      return Number(row?.n) >= 5;
    });
    const benBusy = await world.call(
      'GET',
      `/v1/staff/ben/busy?from=${encodeURIComponent(windowFrom.toISO()!)}&to=${encodeURIComponent(windowTo.toISO()!)}&timeZone=${ZONE}`,
    );
    expect(benBusy.body.intervals.map((i: any) => [i.source, local(i.start, ZONE)])).toEqual(
      expected(10, '').map((s) => ['appointment', s[1]]),
    );

    // The series moves to 11:00 with a new title: the exceptions stay (keyed by their dates).
    await world.call('PUT', '/v1/appointments/r-1', body(2, 11, 'Colour'));
    await world.waitSynced('r-1', 2);
    expect(await googleInstances(anna.calendarId, master[0].id)).toEqual(expected(11, 'Colour – Ana García'));
    expect(await graphInstances(ben.email, series.id, windowFrom, windowTo)).toEqual(
      expected(11, 'Colour – Ana García'),
    );

    // One more occurrence changed (the fifth, to 12:00): only it changes.
    const fifth = week(4).set({ hour: 12 });
    await world.call(
      'PUT',
      '/v1/appointments/r-1',
      body(3, 11, 'Colour', [
        { originalStart: week(4).toISODate(), start: fmt(fifth), end: fmt(fifth.plus({ hours: 1 })) },
      ]),
    );
    await world.waitSynced('r-1', 3);
    const withFifth = expected(11, 'Colour – Ana García');
    withFifth[3] = [week(4).toISODate()!, fmt(fifth), fmt(fifth.plus({ hours: 1 })), 'Colour – Ana García'];
    expect(await googleInstances(anna.calendarId, master[0].id)).toEqual(withFifth);
    expect(await graphInstances(ben.email, series.id, windowFrom, windowTo)).toEqual(withFifth);

    // And back on the pattern when the CRM drops that exception.
    await world.call('PUT', '/v1/appointments/r-1', body(4, 11, 'Colour'));
    await world.waitSynced('r-1', 4);
    expect(await googleInstances(anna.calendarId, master[0].id)).toEqual(expected(11, 'Colour – Ana García'));
    expect(await graphInstances(ben.email, series.id, windowFrom, windowTo)).toEqual(
      expected(11, 'Colour – Ana García'),
    );

    // The staff feed carries the series, its cancelled occurrence and the changed one.
    const feed = await world.call('POST', '/v1/staff/anna/feeds', {});
    const ics = (await (await fetch(feed.body.url)).text()).replace(/\r\n /g, '');
    // Read by ical.js, not by the text's spelling: the order of RRULE parts and the EXDATE's form are the writer's choice.
    const feedMaster = new ICAL.Component(ICAL.parse(ics))
      .getAllSubcomponents('vevent')
      .find((e) => e.hasProperty('rrule'))!;
    const rule = feedMaster.getFirstPropertyValue('rrule') as ICAL.Recur;
    expect([rule.freq, rule.count, rule.parts.BYDAY]).toEqual(['WEEKLY', 6, [day]]);
    const exdates = feedMaster
      .getAllProperties('exdate')
      .map((p: ICAL.Property) => (p.getFirstValue() as ICAL.Time).toJSDate().getTime());
    expect(exdates).toEqual([week(2).set({ hour: 11 }).toMillis()]);
    expect(ics).toMatch(
      new RegExp(`RECURRENCE-ID(;TZID=${ZONE})?:${week(1).set({ hour: 11 }).toFormat("yyyyMMdd'T'HHmmss")}`),
    );
    expect(ics.match(/BEGIN:VEVENT/g)).toHaveLength(2);

    // The CRM un-cancels the third visit: Google drops the EXDATE; Graph cannot bring a deleted
    // occurrence back, so the series is made again there, with its moved occurrence.
    await world.call('PUT', '/v1/appointments/r-1', {
      ...body(5, 11, 'Colour'),
      recurrence: { rrule: `FREQ=WEEKLY;BYDAY=${day};COUNT=6`, exceptions: [exceptions[0]] },
    });
    await world.waitSynced('r-1', 5);
    const all = [
      onPattern(0, 11, 'Colour – Ana García'),
      movedShown,
      onPattern(2, 11, 'Colour – Ana García'),
      onPattern(3, 11, 'Colour – Ana García'),
      onPattern(4, 11, 'Colour – Ana García'),
      onPattern(5, 11, 'Colour – Ana García'),
    ];
    expect(await googleInstances(anna.calendarId, master[0].id)).toEqual(all);
    const remade = await microsoftEmulator.events(ben.email);
    expect(remade).toHaveLength(1);
    expect(remade[0]!.id).not.toBe(series.id);
    expect(await graphInstances(ben.email, remade[0]!.id, windowFrom, windowTo)).toEqual(all);
    expect((await world.status('r-1')).sync.targets.find((t: any) => t.provider === 'microsoft').remoteId).toBe(
      remade[0]!.id,
    );

    // Cancelling the appointment removes the whole series, exceptions included.
    const cancel = await world.call('POST', '/v1/appointments/r-1/cancel', {});
    expect(cancel.status).toBe(202);
    await world.waitSynced('r-1', 6);
    await waitUntil('series gone', async () => {
      const google = await googleSeries();
      const graph = await microsoftEmulator.events(ben.email);
      return google.master.length === 0 && google.overrides.length === 0 && graph.length === 0;
    });
  });

  test('a series made a single appointment again, then deleted: gone everywhere', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const anna = await world.staffWithGoogle('anna');
    const ben = await world.staffWithMicrosoft('ben');
    const first = DateTime.now().setZone(ZONE).plus({ days: 2 }).set({ hour: 9, minute: 0, second: 0, millisecond: 0 });
    const fmt = (d: DateTime) => d.toFormat("yyyy-MM-dd'T'HH:mm");
    const put = await world.call('PUT', '/v1/appointments/r-2', {
      revision: 1,
      start: fmt(first),
      end: fmt(first.plus({ minutes: 30 })),
      timeZone: ZONE,
      title: 'Check-up',
      staffIds: ['anna', 'ben'],
      recurrence: {
        rrule: 'FREQ=DAILY;INTERVAL=2',
        exceptions: [
          { originalStart: first.plus({ days: 2 }).toISODate(), start: fmt(first.plus({ days: 2, hours: 3 })) },
        ],
      },
    });
    expect(put.status).toBe(202);
    await world.waitSynced('r-2', 1);
    expect((await googleEmulator.liveEvents(anna.calendarId)).length).toBe(2); // the series and its one override
    expect((await microsoftEmulator.events(ben.email)).length).toBe(1);

    // No longer a series: one event again in both calendars.
    const single = await world.call('PUT', '/v1/appointments/r-2', {
      revision: 2,
      start: fmt(first),
      end: fmt(first.plus({ minutes: 30 })),
      timeZone: ZONE,
      title: 'Check-up',
      staffIds: ['anna', 'ben'],
    });
    expect(single.status).toBe(202);
    await world.waitSynced('r-2', 2);
    const googleLive = await googleEmulator.liveEvents(anna.calendarId);
    expect(googleLive.map((e: any) => [e.recurrence ?? null, e.recurringEventId ?? null])).toEqual([[null, null]]);
    const graphLive = await microsoftEmulator.events(ben.email);
    expect(graphLive.map((e: any) => e.recurrence)).toEqual([null]);

    expect((await world.call('DELETE', '/v1/appointments/r-2')).status).toBe(202);
    await world.waitSynced('r-2', 3);
    expect(await googleEmulator.liveEvents(anna.calendarId)).toEqual([]);
    expect(await microsoftEmulator.events(ben.email)).toEqual([]);
  });

  test('bad all-day series are 400s that name the field', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    await world.call('PUT', '/v1/staff/anna', { name: 'Anna' });
    const first = DateTime.now().setZone(ZONE).plus({ days: 7 }).startOf('day');
    const day = ['', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'][first.weekday];
    const put = async (recurrence: unknown) => {
      const res = await world.call('PUT', '/v1/appointments/ad-bad', {
        revision: 1,
        allDay: true,
        start: first.toISODate(),
        end: first.plus({ days: 1 }).toISODate(),
        timeZone: ZONE,
        title: 'Retreat',
        staffIds: ['anna'],
        recurrence,
      });
      return [res.status, res.body.message];
    };
    const rrule = `FREQ=WEEKLY;BYDAY=${day};COUNT=4`;
    const second = first.plus({ weeks: 1 });
    const allDayOnly = 'must be a date such as 2030-03-05 (the series is all-day)';
    expect(await put({ rrule, exceptions: [{ originalStart: second.toISO(), cancelled: true }] })).toEqual([
      400,
      `recurrence.exceptions[0].originalStart: ${allDayOnly}`,
    ]);
    expect(
      await put({
        rrule,
        exceptions: [
          {
            originalStart: second.toISODate(),
            start: second.plus({ days: 1, hours: 9 }).toFormat("yyyy-MM-dd'T'HH:mm"),
          },
        ],
      }),
    ).toEqual([400, `recurrence.exceptions[0].start: ${allDayOnly}`]);
    expect(
      await put({
        rrule,
        exceptions: [
          { originalStart: second.toISODate(), cancelled: true },
          {
            originalStart: first.plus({ weeks: 2 }).toISODate(),
            start: first.plus({ weeks: 2, days: 1 }).toISODate(),
            end: `${first.plus({ weeks: 2, days: 2 }).toISODate()}T00:00`,
          },
        ],
      }),
    ).toEqual([400, `recurrence.exceptions[1].end: ${allDayOnly}`]);
    expect(
      await put({
        rrule,
        exceptions: [{ originalStart: second.toISODate(), start: second.toISODate(), end: second.toISODate() }],
      }),
    ).toEqual([400, 'recurrence.exceptions[0].end: must be after start']);
    expect(
      await put({
        rrule: `FREQ=WEEKLY;BYDAY=${day};UNTIL=${first.plus({ weeks: 3 }).toUTC().toFormat("yyyyMMdd'T'HHmmss'Z'")}`,
      }),
    ).toEqual([400, 'recurrence.rrule: UNTIL of an all-day series must be a date such as UNTIL=20301231']);
    expect((await world.call('GET', '/v1/appointments/ad-bad')).status).toBe(404);
  });

  test('an all-day weekly series with a moved and a cancelled day, in Google and Microsoft calendars, busy time and the feed', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const anna = await world.staffWithGoogle('anna');
    const ben = await world.staffWithMicrosoft('ben');

    // Five weekly all-day retreats from a week ahead; the second moves to the next day, the third is cancelled.
    const first = DateTime.now().setZone(ZONE).plus({ days: 7 }).startOf('day');
    const day = ['', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'][first.weekday];
    const week = (n: number) => first.plus({ weeks: n });
    const date = (d: DateTime) => d.toISODate()!;
    const basic = (d: DateTime) => d.toFormat('yyyyMMdd');
    const moved = week(1).plus({ days: 1 });
    const body = (revision: number, days: number, title: string) => ({
      revision,
      allDay: true,
      start: date(first),
      end: date(first.plus({ days })),
      timeZone: ZONE,
      title,
      staffIds: ['anna', 'ben'],
      recurrence: {
        rrule: `FREQ=WEEKLY;BYDAY=${day};COUNT=5`,
        exceptions: [
          { originalStart: date(week(1)), start: date(moved), title: `${title} (moved)` },
          { originalStart: date(week(2)), cancelled: true },
        ],
      },
    });
    expect((await world.call('PUT', '/v1/appointments/ad-1', body(1, 1, 'Retreat'))).status).toBe(202);
    await world.waitSynced('ad-1', 1);
    const expected = (days: number, title: string): ShownDays[] => [
      [date(week(0)), date(week(0)), date(week(0).plus({ days })), title],
      // Moved with a start only: as long as the series' occurrences.
      [date(week(1)), date(moved), date(moved.plus({ days })), `${title} (moved)`],
      ...[3, 4].map((n): ShownDays => [date(week(n)), date(week(n)), date(week(n).plus({ days })), title]),
    ];

    // Google: a recurring event of dates, EXDATE;VALUE=DATE, the moved day an override named by its date.
    const live = (await googleEmulator.liveEvents(anna.calendarId)) as any[];
    const master = live.filter((e) => !e.recurringEventId);
    expect(master.map((e) => [e.start, e.end, e.recurrence])).toEqual([
      [
        { date: date(first) },
        { date: date(first.plus({ days: 1 })) },
        [`RRULE:FREQ=WEEKLY;BYDAY=${day};COUNT=5`, `EXDATE;VALUE=DATE:${basic(week(2))}`],
      ],
    ]);
    const overrides = live.filter((e) => e.recurringEventId);
    expect(overrides.map((o) => [o.id, o.originalStartTime])).toEqual([
      [`${master[0].id}_${basic(week(1))}`, { date: date(week(1)) }],
    ]);
    expect(await googleAllDayInstances(anna.calendarId, master[0].id)).toEqual(expected(1, 'Retreat'));

    // Microsoft: an all-day seriesMaster from midnight to midnight; the moved day an exception, the cancelled one gone.
    const graphEvents = (await microsoftEmulator.events(ben.email)) as any[];
    const wall = (t: { dateTime: string; timeZone: string }) => [t.dateTime.slice(0, 19), t.timeZone];
    expect(graphEvents.map((e) => [e.isAllDay, wall(e.start), wall(e.end), e.recurrence?.range])).toEqual([
      [
        true,
        [`${date(first)}T00:00:00`, 'Romance Standard Time'],
        [`${date(first.plus({ days: 1 }))}T00:00:00`, 'Romance Standard Time'],
        {
          type: 'numbered',
          numberOfOccurrences: 5,
          startDate: date(first),
          recurrenceTimeZone: 'Romance Standard Time',
        },
      ],
    ]);
    const seriesId = graphEvents[0].id;
    const windowFrom = first.minus({ days: 1 });
    const windowTo = first.plus({ weeks: 6 });
    expect(await graphAllDayInstances(ben.email, seriesId, windowFrom, windowTo)).toEqual(expected(1, 'Retreat'));

    // Busy time: each occurrence is its whole local day, midnight to midnight (23 or 25 hours across DST).
    const busy = await world.call(
      'GET',
      `/v1/staff/anna/busy?from=${encodeURIComponent(windowFrom.toISO()!)}&to=${encodeURIComponent(windowTo.toISO()!)}&timeZone=${ZONE}`,
    );
    expect(busy.status).toBe(200);
    expect(
      busy.body.intervals
        .filter((i: any) => i.source === 'appointment')
        .map((i: any) => [localDate(i.start), localDate(i.end)]),
    ).toEqual(expected(1, '').map((s) => [s[1], s[2]]));

    // The feed: dates everywhere (DTSTART, EXDATE, RECURRENCE-ID), no times.
    const feed = await world.call('POST', '/v1/staff/anna/feeds', {});
    const ics = (await (await fetch(feed.body.url)).text()).replace(/\r\n /g, '');
    expect(ics).toContain(`DTSTART;VALUE=DATE:${basic(first)}`);
    expect(ics).toContain(`EXDATE;VALUE=DATE:${basic(week(2))}`);
    expect(ics).toContain(`RECURRENCE-ID;VALUE=DATE:${basic(week(1))}`);
    expect(ics).toContain(`DTSTART;VALUE=DATE:${basic(moved)}`);
    expect(ics.match(/BEGIN:VEVENT/g)).toHaveLength(2);

    // The series becomes two days long and is renamed (Graph drops its exceptions on new series times): the exceptions stay.
    expect((await world.call('PUT', '/v1/appointments/ad-1', body(2, 2, 'Workshop'))).status).toBe(202);
    await world.waitSynced('ad-1', 2);
    expect(await googleAllDayInstances(anna.calendarId, master[0].id)).toEqual(expected(2, 'Workshop'));
    expect(await graphAllDayInstances(ben.email, seriesId, windowFrom, windowTo)).toEqual(expected(2, 'Workshop'));
    const stored = await testDb()('appointments')
      .where({ tenant_id: world.tenantId, id: 'ad-1' })
      .first('series_end_at');
    expect(stored.series_end_at.toISOString()).toBe(week(4).plus({ days: 2 }).toUTC().toISO());
  });
});
