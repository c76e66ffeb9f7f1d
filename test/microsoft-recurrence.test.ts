import { DateTime } from 'luxon';
import { controlCall, microsoftEmulator } from './helpers/emulator';
import { waitUntil } from './helpers/api';
import { useAppStack } from './helpers/stack';
import { TenantWorld, testDb } from './helpers/world';

const ZONE = 'Europe/Madrid';
const graphControl = controlCall(() => process.env.MICROSOFT_EMULATOR_URL!);
const fmt = (d: DateTime) => d.toFormat("yyyy-MM-dd'T'HH:mm");

/**
 * Series as Outlook expands them: Graph's weeks start on Sunday unless firstDayOfWeek says otherwise,
 * and a relativeMonthly with several days makes one occurrence a month. A rule written twice must
 * land the same way twice: same Graph id, no cancellation mailed to anyone.
 */
describe('Microsoft 365 recurrence as Graph expands it', () => {
  const stack = useAppStack();

  const mail = async (email: string) =>
    (
      await graphControl<{ items: Array<{ kind: string }> }>(
        'GET',
        `/_emulator/users/${encodeURIComponent(email)}/mail`,
      )
    ).items;

  test.each([
    ['FREQ=WEEKLY;INTERVAL=2;BYDAY=SA,SU;COUNT=8', 6],
    ['FREQ=MONTHLY;BYDAY=2TU;COUNT=4', 2],
  ])('%s written twice keeps its Graph id and mails no cancellation', async (rrule, weekday) => {
    const world = await TenantWorld.create(stack.apiUrl);
    const ben = await world.staffWithMicrosoft('ben');
    let first = DateTime.now().setZone(ZONE).plus({ days: 7 }).set({ hour: 10, minute: 0, second: 0, millisecond: 0 });
    if (rrule.includes('2TU')) first = first.plus({ months: 1 }).set({ day: 1 });
    while (first.weekday !== weekday) first = first.plus({ days: 1 });
    // The second Tuesday of next month.
    if (rrule.includes('2TU')) first = first.plus({ weeks: 1 });
    const body = {
      revision: 1,
      start: fmt(first),
      end: fmt(first.plus({ hours: 1 })),
      timeZone: ZONE,
      title: 'Class',
      staffIds: ['ben'],
      recurrence: { rrule, exceptions: [] },
    };
    expect((await world.call('PUT', '/v1/appointments/s-1', body)).status).toBe(202);
    await world.waitSynced('s-1', 1);
    const [written, ...none] = await microsoftEmulator.events(ben.email);
    expect(none).toEqual([]);

    await microsoftEmulator.resetStats(ben.email);
    expect((await world.call('POST', '/v1/appointments/s-1/resync', { force: true })).status).toBe(202);
    await waitUntil(
      'second write checked',
      async () => ((await microsoftEmulator.stats(ben.email)).byOperation['events.instances']?.total ?? 0) >= 1,
      20000,
    );
    await world.waitSynced('s-1', 1);
    await new Promise((r) => setTimeout(r, 500));
    const after = await microsoftEmulator.events(ben.email);
    expect(after.map((e) => e.id)).toEqual([written!.id]);
    expect((await mail(ben.email)).filter((m) => m.kind === 'cancellation')).toEqual([]);
    expect((await microsoftEmulator.stats(ben.email)).byOperation['events.delete']).toBeUndefined();
  });

  test('appointments in Europe/Madrid, America/Toronto and Asia/Kolkata are written with zone names Graph takes', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const ben = await world.staffWithMicrosoft('ben');
    const zones: Array<[string, string]> = [
      ['Europe/Madrid', 'Romance Standard Time'],
      ['America/Toronto', 'Eastern Standard Time'],
      ['Asia/Kolkata', 'India Standard Time'],
    ];
    for (const [i, [zone]] of zones.entries()) {
      const at = DateTime.now()
        .setZone(zone)
        .plus({ days: 3 })
        .set({ hour: 9 + i, minute: 0, second: 0, millisecond: 0 });
      const res = await world.call('PUT', `/v1/appointments/z-${i}`, {
        revision: 1,
        start: fmt(at),
        end: fmt(at.plus({ hours: 1 })),
        timeZone: zone,
        title: zone,
        staffIds: ['ben'],
      });
      expect(res.status).toBe(202);
      await world.waitSynced(`z-${i}`, 1);
    }
    const events = await microsoftEmulator.events(ben.email);
    expect(events.map((e: any) => [e.subject.split(' ')[0], e.start.timeZone, e.originalStartTimeZone]).sort()).toEqual(
      zones.map(([zone, windows]) => [zone, windows, windows]).sort(),
    );
  });

  test('a rule Outlook would expand otherwise (MONTHLY;BYDAY=1MO,1WE) is a 400 naming recurrence.rrule', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    await world.call('PUT', '/v1/staff/anna', { name: 'Anna' });
    let first = DateTime.now().setZone(ZONE).plus({ months: 1 }).set({ day: 1, hour: 10, minute: 0, second: 0 });
    while (first.weekday !== 1 && first.weekday !== 3) first = first.plus({ days: 1 });
    const res = await world.call('PUT', '/v1/appointments/m-1', {
      revision: 1,
      start: fmt(first),
      end: fmt(first.plus({ hours: 1 })),
      timeZone: ZONE,
      title: 'Review',
      staffIds: ['anna'],
      recurrence: { rrule: 'FREQ=MONTHLY;BYDAY=1MO,1WE', exceptions: [] },
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^recurrence\.rrule: BYDAY=1MO,1WE makes one occurrence per listed day/);
  });

  test('a transient 412 ErrorIrresolvableConflict on PATCH is retried until the move lands', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const ben = await world.staffWithMicrosoft('ben');
    await world.put('c-1', { revision: 1, staffIds: ['ben'], title: 'Before' });
    await world.waitSynced('c-1', 1);
    const [created] = await microsoftEmulator.events(ben.email);
    await microsoftEmulator.resetStats(ben.email);
    await microsoftEmulator.setFaults({ user: ben.email, errorRate: 0.6, errorStatuses: [412] });
    const conflicts = async () =>
      (await microsoftEmulator.stats(ben.email)).byOperation['events.update']?.byStatus['412'] ?? 0;
    let revision = 1;
    try {
      // Until at least one PATCH met the fault (each attempt fails with probability 0.6).
      while (revision < 8 && (revision === 1 || (await conflicts()) === 0)) {
        revision += 1;
        await world.put('c-1', { revision, staffIds: ['ben'], title: `After ${revision}` });
        await world.waitSynced('c-1', revision, 90000);
      }
    } finally {
      await microsoftEmulator.clearFaults(ben.email);
    }
    expect(await conflicts()).toBeGreaterThan(0);
    const events = await microsoftEmulator.events(ben.email);
    expect(events.map((e) => [e.id, e.subject])).toEqual([[created!.id, `After ${revision} – Ana García`]]);
    const log = await testDb()('sync_log').where({ tenant_id: world.tenantId });
    expect(log.filter((r) => r.result === 'error').map((r) => r.error_code)).toContain('ErrorIrresolvableConflict');
    expect(log.filter((r) => r.result === 'failed')).toEqual([]);
  });
});
