import { useAppStack } from './helpers/stack';
import { TenantWorld, testDb } from './helpers/world';
import { waitUntil } from './helpers/api';
import {
  busy,
  busyBecomes,
  dayAhead,
  googleCalendar,
  importProgress,
  linkedStaff,
  outlookCalendar,
} from './helpers/busyImport';

const POLL_MS = 2000;
// One poll interval, plus room for the pass itself on a busy two-core test machine.
const WITHIN_ONE_POLL = POLL_MS + 2500;

/**
 * Busy time imported by polling alone (push off): hand-made events in the emulated Google and
 * Outlook calendars reach GET /busy within one poll interval, counted the way they block time.
 */
describe('busy-time import by polling', () => {
  const stack = useAppStack({
    IMPORT_PUSH: 'false',
    IMPORT_POLL_INTERVAL_MS: String(POLL_MS),
    IMPORT_HORIZON_DAYS: '200',
  });
  let world: TenantWorld;
  const day = dayAhead(6);
  const from = `${day}T00:00:00Z`;
  const to = `${day}T23:59:00Z`;

  beforeAll(async () => {
    world = await TenantWorld.create(stack.apiUrl);
  });

  test('Google: create, move and delete each change the busy answer within one poll interval', async () => {
    const gina = await linkedStaff(world, 'google', 'gina');
    const created = await googleCalendar.upsert(gina.email, {
      summary: 'Dentist',
      start: { dateTime: `${day}T09:00:00Z` },
      end: { dateTime: `${day}T10:00:00Z` },
    });
    const tookCreate = await busyBecomes(
      world,
      'gina',
      from,
      to,
      (b) => b.busy.length === 1 && b.busy[0]!.start === `${day}T09:00:00Z`,
      WITHIN_ONE_POLL,
    );
    await googleCalendar.upsert(gina.email, {
      id: created.id,
      start: { dateTime: `${day}T13:00:00Z` },
      end: { dateTime: `${day}T14:30:00Z` },
    });
    const tookMove = await busyBecomes(
      world,
      'gina',
      from,
      to,
      (b) => b.busy.length === 1 && b.busy[0]!.start === `${day}T13:00:00Z` && b.busy[0]!.end === `${day}T14:30:00Z`,
      WITHIN_ONE_POLL,
    );
    await googleCalendar.remove(gina.email, created.id);
    const tookDelete = await busyBecomes(world, 'gina', from, to, (b) => b.busy.length === 0, WITHIN_ONE_POLL);
    expect(Math.max(tookCreate, tookMove, tookDelete)).toBeLessThan(WITHIN_ONE_POLL);
    // Titles are not kept unless the tenant asks.
    expect(
      await testDb()('imported_busy').where({ link_id: gina.linkId }).whereNotNull('title').count('* as n'),
    ).toEqual([{ n: '0' }]);
  });

  test('Microsoft: create, move and delete each change the busy answer within one poll interval', async () => {
    const mia = await linkedStaff(world, 'microsoft', 'mia');
    const created = await outlookCalendar.create(mia.email, {
      subject: 'Physio',
      start: { dateTime: `${day}T09:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${day}T10:00:00`, timeZone: 'UTC' },
    });
    await busyBecomes(
      world,
      'mia',
      from,
      to,
      (b) => b.busy.length === 1 && b.busy[0]!.start === `${day}T09:00:00Z`,
      WITHIN_ONE_POLL,
    );
    await outlookCalendar.move(mia.email, created.id, {
      start: { dateTime: `${day}T15:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${day}T16:00:00`, timeZone: 'UTC' },
    });
    await busyBecomes(
      world,
      'mia',
      from,
      to,
      (b) => b.busy.length === 1 && b.busy[0]!.start === `${day}T15:00:00Z`,
      WITHIN_ONE_POLL,
    );
    await outlookCalendar.remove(mia.email, created.id);
    await busyBecomes(world, 'mia', from, to, (b) => b.busy.length === 0, WITHIN_ONE_POLL);
  });

  test('all-day, free, tentative, recurring and other-time-zone events are counted the way they block time', async () => {
    // Google calendar in New York: an all-day event there is midnight to midnight New York time.
    const nora = await linkedStaff(world, 'google', 'nora', 'America/New_York');
    await googleCalendar.upsert(nora.email, {
      summary: 'Moving day',
      start: { date: day },
      end: { date: dayAhead(7) },
    });
    await googleCalendar.upsert(nora.email, {
      summary: 'Lunch maybe',
      transparency: 'transparent',
      start: { dateTime: `${day}T12:00:00-05:00` },
      end: { dateTime: `${day}T13:00:00-05:00` },
    });
    // A weekly series across Europe's spring DST change stays at 09:00 Berlin time.
    await googleCalendar.upsert(nora.email, {
      summary: 'Yoga',
      recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3'],
      start: { dateTime: '2027-03-18T09:00:00', timeZone: 'Europe/Berlin' },
      end: { dateTime: '2027-03-18T10:00:00', timeZone: 'Europe/Berlin' },
    });
    await busyBecomes(
      world,
      'nora',
      `${day}T00:00:00Z`,
      `${dayAhead(8)}T00:00:00Z`,
      (b) => b.intervals.length === 1,
      WITHIN_ONE_POLL + 5000,
    );
    const allDay = await busy(world, 'nora', `${day}T00:00:00Z`, `${dayAhead(8)}T00:00:00Z`, 'America/New_York');
    expect(allDay.intervals).toEqual([
      {
        start: `${day}T00:00:00-05:00`,
        end: `${dayAhead(7)}T00:00:00-05:00`,
        source: 'imported',
        provider: 'google',
        showAs: 'busy',
        allDay: true,
      },
    ]);
    const series = await busy(world, 'nora', '2027-03-15T00:00:00Z', '2027-04-10T00:00:00Z');
    expect(series.busy).toEqual([
      { start: '2027-03-18T08:00:00Z', end: '2027-03-18T09:00:00Z' },
      { start: '2027-03-25T08:00:00Z', end: '2027-03-25T09:00:00Z' },
      { start: '2027-04-01T07:00:00Z', end: '2027-04-01T08:00:00Z' },
    ]);

    // Outlook: free does not block, tentative does (marked), a Los Angeles meeting lands at its instant, a daily series expands.
    const otto = await linkedStaff(world, 'microsoft', 'otto');
    const utc = (h: string) => ({ dateTime: `${day}T${h}:00`, timeZone: 'UTC' });
    await outlookCalendar.create(otto.email, {
      subject: 'Gym',
      showAs: 'free',
      start: utc('07:00'),
      end: utc('08:00'),
    });
    await outlookCalendar.create(otto.email, {
      subject: 'Maybe coffee',
      showAs: 'tentative',
      start: utc('09:00'),
      end: utc('09:30'),
    });
    await outlookCalendar.create(otto.email, {
      subject: 'Call with LA',
      start: { dateTime: `${day}T10:00:00`, timeZone: 'America/Los_Angeles' },
      end: { dateTime: `${day}T11:00:00`, timeZone: 'America/Los_Angeles' },
    });
    await outlookCalendar.create(otto.email, {
      subject: 'Standup',
      start: utc('06:00'),
      end: utc('06:15'),
      recurrence: {
        pattern: { type: 'daily', interval: 1 },
        range: { type: 'numbered', startDate: day, numberOfOccurrences: 3 },
      },
    });
    await busyBecomes(
      world,
      'otto',
      `${day}T00:00:00Z`,
      `${dayAhead(9)}T00:00:00Z`,
      (b) => b.intervals.length === 5,
      WITHIN_ONE_POLL + 5000,
    );
    const ottoDay = await busy(world, 'otto', `${day}T00:00:00Z`, `${day}T23:59:00Z`, 'Europe/Madrid');
    expect(ottoDay.intervals.map((i) => [i.start, i.end, i.showAs])).toEqual([
      [`${day}T07:00:00+01:00`, `${day}T07:15:00+01:00`, 'busy'],
      [`${day}T10:00:00+01:00`, `${day}T10:30:00+01:00`, 'tentative'],
      [`${day}T19:00:00+01:00`, `${day}T20:00:00+01:00`, 'busy'],
    ]);
    const series2 = await busy(world, 'otto', `${dayAhead(7)}T00:00:00Z`, `${dayAhead(9)}T00:00:00Z`);
    expect(series2.busy).toEqual([
      { start: `${dayAhead(7)}T06:00:00Z`, end: `${dayAhead(7)}T06:15:00Z` },
      { start: `${dayAhead(8)}T06:00:00Z`, end: `${dayAhead(8)}T06:15:00Z` },
    ]);
  });

  test("calsync's own events are never counted twice", async () => {
    for (const provider of ['google', 'microsoft'] as const) {
      const staffId = `own-${provider}`;
      const staff = await linkedStaff(world, provider, staffId);
      const put = await world.call('PUT', `/v1/appointments/own-${provider}`, {
        type: 'appointment',
        revision: 1,
        start: `${day}T11:00:00Z`,
        end: `${day}T12:00:00Z`,
        timeZone: 'UTC',
        title: 'Cut',
        services: [],
        clientName: 'Client',
        status: 'confirmed',
        staffIds: [staffId],
      });
      expect(put.status).toBe(202);
      await world.waitSynced(`own-${provider}`, 1);
      // Two more import rounds: the event calsync wrote has been seen by the import by then.
      const rounds = (await importProgress(world, staff)).rounds;
      await waitUntil(
        'two import rounds',
        async () => (await importProgress(world, staff)).rounds >= rounds + 2,
        20000,
        100,
      );
      const answer = await busy(world, staffId, from, to);
      expect(answer.intervals).toEqual([
        { start: `${day}T11:00:00Z`, end: `${day}T12:00:00Z`, source: 'appointment', appointmentId: `own-${provider}` },
      ]);
      // Google's list shows calsync's tag, so the event is not imported at all; Graph's delta does
      // not, so the import keeps it and the busy answer leaves it out by its remote id.
      const target = await testDb()('appointment_targets')
        .where({ tenant_id: world.tenantId, appointment_id: `own-${provider}` })
        .first();
      const imported = await testDb()('imported_busy').where({ link_id: staff.linkId, remote_id: target.remote_id });
      expect(imported).toHaveLength(provider === 'google' ? 0 : 1);
    }
  });

  test('an expired sync token or delta link means a full resync that loses nothing', async () => {
    const gabe = await linkedStaff(world, 'google', 'gabe');
    const mo = await linkedStaff(world, 'microsoft', 'mo');
    await googleCalendar.upsert(gabe.email, {
      summary: 'A',
      start: { dateTime: `${day}T08:00:00Z` },
      end: { dateTime: `${day}T09:00:00Z` },
    });
    await outlookCalendar.create(mo.email, {
      subject: 'A',
      start: { dateTime: `${day}T08:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${day}T09:00:00`, timeZone: 'UTC' },
    });
    await busyBecomes(world, 'gabe', from, to, (b) => b.busy.length === 1, WITHIN_ONE_POLL);
    await busyBecomes(world, 'mo', from, to, (b) => b.busy.length === 1, WITHIN_ONE_POLL);
    const fullSyncs = async (linkId: string) =>
      Number((await testDb()('import_cursors').where({ link_id: linkId }).first()).full_syncs);
    const before = { gabe: await fullSyncs(gabe.linkId), mo: await fullSyncs(mo.linkId) };

    await googleCalendar.expireSyncTokens();
    await outlookCalendar.expireDeltaTokens();
    await googleCalendar.upsert(gabe.email, {
      summary: 'B',
      start: { dateTime: `${day}T15:00:00Z` },
      end: { dateTime: `${day}T16:00:00Z` },
    });
    await outlookCalendar.create(mo.email, {
      subject: 'B',
      start: { dateTime: `${day}T15:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${day}T16:00:00`, timeZone: 'UTC' },
    });
    const both = (b: { busy: Array<{ start: string }> }) =>
      b.busy.map((i) => i.start).join() === `${day}T08:00:00Z,${day}T15:00:00Z`;
    await busyBecomes(world, 'gabe', from, to, both, WITHIN_ONE_POLL);
    await busyBecomes(world, 'mo', from, to, both, WITHIN_ONE_POLL);
    expect(await fullSyncs(gabe.linkId)).toBe(before.gabe + 1);
    expect(await fullSyncs(mo.linkId)).toBe(before.mo + 1);
  });

  test('the staff member picks the calendars to import; titles are kept only when the tenant asks', async () => {
    const titled = await TenantWorld.create(stack.apiUrl, { importTitles: true });
    const pia = await linkedStaff(titled, 'google', 'pia');
    const personal = await fetch(`${process.env.GOOGLE_EMULATOR_URL}/calendar/v3/calendars`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pia.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ summary: 'Personal' }),
    }).then((r) => r.json() as Promise<{ id: string }>);
    await googleCalendar.upsert(personal.id, {
      summary: 'Dentist',
      start: { dateTime: `${day}T16:00:00Z` },
      end: { dateTime: `${day}T17:00:00Z` },
    });
    await new Promise((r) => setTimeout(r, POLL_MS + 500));
    expect((await busy(titled, 'pia', from, to)).busy).toEqual([]); // not selected yet

    expect((await titled.call('PUT', `/v1/links/${pia.linkId}/import`, { calendarIds: [] })).body.message).toMatch(
      /^calendarIds:/,
    );
    const selected = await titled.call('PUT', `/v1/links/${pia.linkId}/import`, {
      calendarIds: ['primary', personal.id],
    });
    expect(selected.status).toBe(200);
    expect(selected.body.calendarIds).toEqual(['primary', personal.id]);
    await busyBecomes(
      titled,
      'pia',
      from,
      to,
      (b) => b.intervals.length === 1 && b.intervals[0]!.title === 'Dentist',
      WITHIN_ONE_POLL,
    );
    expect((await titled.call('GET', `/v1/links/${pia.linkId}/import`)).body).toMatchObject({
      importedEvents: 1,
      calendarIds: ['primary', personal.id],
    });
    expect((await world.call('GET', `/v1/links/${pia.linkId}/import`)).status).toBe(404); // another tenant's link

    // Deselected again: its busy time no longer counts.
    await titled.call('PUT', `/v1/links/${pia.linkId}/import`, { calendarIds: ['primary'] });
    await busyBecomes(titled, 'pia', from, to, (b) => b.intervals.length === 0, WITHIN_ONE_POLL);
  });

  test('a recurring series moved or shortened in Google or Outlook leaves no stale occurrences behind', async () => {
    const sam = await linkedStaff(world, 'google', 'sam');
    const d = (n: number) => dayAhead(10 + n);
    const series = await googleCalendar.upsert(sam.email, {
      summary: 'Class',
      recurrence: ['RRULE:FREQ=DAILY;COUNT=3'],
      start: { dateTime: `${d(0)}T09:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${d(0)}T10:00:00`, timeZone: 'UTC' },
    });
    const span = [`${d(0)}T00:00:00Z`, `${d(3)}T00:00:00Z`] as const;
    await busyBecomes(world, 'sam', ...span, (b) => b.busy.length === 3, WITHIN_ONE_POLL);
    await googleCalendar.upsert(sam.email, {
      id: series.id,
      recurrence: ['RRULE:FREQ=DAILY;COUNT=2'],
      start: { dateTime: `${d(0)}T14:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${d(0)}T15:00:00`, timeZone: 'UTC' },
    });
    await busyBecomes(
      world,
      'sam',
      ...span,
      (b) => b.busy.map((i) => i.start).join() === `${d(0)}T14:00:00Z,${d(1)}T14:00:00Z`,
      WITHIN_ONE_POLL,
    );

    const olga = await linkedStaff(world, 'microsoft', 'olga');
    const standup = await outlookCalendar.create(olga.email, {
      subject: 'Standup',
      start: { dateTime: `${d(0)}T08:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${d(0)}T08:15:00`, timeZone: 'UTC' },
      recurrence: {
        pattern: { type: 'daily', interval: 1 },
        range: { type: 'numbered', startDate: d(0), numberOfOccurrences: 3 },
      },
    });
    await busyBecomes(world, 'olga', ...span, (b) => b.busy.length === 3, WITHIN_ONE_POLL);
    await outlookCalendar.move(olga.email, standup.id, {
      start: { dateTime: `${d(0)}T11:00:00`, timeZone: 'UTC' },
      end: { dateTime: `${d(0)}T11:15:00`, timeZone: 'UTC' },
      recurrence: {
        pattern: { type: 'daily', interval: 1 },
        range: { type: 'numbered', startDate: d(0), numberOfOccurrences: 2 },
      },
    });
    await busyBecomes(
      world,
      'olga',
      ...span,
      (b) => b.busy.map((i) => i.start).join() === `${d(0)}T11:00:00Z,${d(1)}T11:00:00Z`,
      WITHIN_ONE_POLL,
    );
  });
});
