import { useAppStack } from './helpers/stack';
import { TenantWorld } from './helpers/world';
import { busyBecomes, dayAhead, googleCalendar, linkedStaff, type LinkedStaff } from './helpers/busyImport';

/**
 * POST /v1/availability end to end: slots across staff from calsync's appointments and busy time
 * imported from an (emulated) Google calendar, each person's stored working hours, and a booking
 * made on a returned slot taking it out of the next answer.
 */
describe('team availability', () => {
  const stack = useAppStack({ IMPORT_PUSH: 'false', IMPORT_POLL_INTERVAL_MS: '1000' });
  const day = dayAhead(6);
  const at = (hhmm: string) => `${day}T${hhmm}:00Z`;
  const weekly = (start: string, end: string) =>
    Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [{ start, end }]]));
  let world: TenantWorld;
  let gina: LinkedStaff;

  const ask = (extra: Record<string, unknown> = {}) =>
    world.call('POST', '/v1/availability', {
      staffIds: ['gina', 'otto'],
      durationMinutes: 60,
      slotIntervalMinutes: 60,
      window: { from: at('00:00'), to: at('23:59') },
      timeZone: 'UTC',
      ...extra,
    });
  const slotsOf = (body: { slots: { start: string; staffIds: string[] }[] }) =>
    body.slots.map((s) => [s.start.slice(11, 16), s.staffIds]);

  beforeAll(async () => {
    world = await TenantWorld.create(stack.apiUrl);
    gina = await linkedStaff(world, 'google', 'gina');
    // Both work 09:00–13:00 UTC every day, stored with the staff member.
    for (const [id, name] of [
      ['gina', 'Gina'],
      ['otto', 'Otto'],
    ]) {
      const saved = await world.call('PUT', `/v1/staff/${id}`, {
        name,
        workingHours: { timeZone: 'UTC', weekly: weekly('09:00', '13:00') },
      });
      expect(saved.status).toBe(200);
      expect(saved.body.workingHours.weekly.mon).toEqual([{ start: '09:00', end: '13:00' }]);
    }
    // Gina's own dentist appointment in her Google calendar, imported as busy time.
    await googleCalendar.upsert(gina.email, {
      summary: 'Dentist',
      start: { dateTime: at('10:00') },
      end: { dateTime: at('11:00') },
    });
    await busyBecomes(world, 'gina', at('00:00'), at('23:59'), (b) => b.busy.length === 1, 20000);
    // Otto has a calsync appointment.
    const booked = await world.call('PUT', '/v1/appointments/otto-1', {
      revision: 1,
      start: at('11:00'),
      end: at('12:00'),
      timeZone: 'UTC',
      title: 'Cut',
      staffIds: ['otto'],
    });
    expect(booked.status).toBe(202);
  });

  test('slots leave out imported busy time and calsync appointments; any lists who is free, all needs everyone', async () => {
    const any = await ask();
    expect(any.status).toBe(200);
    expect(slotsOf(any.body)).toEqual([
      ['09:00', ['gina', 'otto']],
      ['10:00', ['otto']],
      ['11:00', ['gina']],
      ['12:00', ['gina', 'otto']],
    ]);
    expect(any.body.slots[0]).toEqual({ start: at('09:00'), end: at('10:00'), staffIds: ['gina', 'otto'] });
    // Freshness: Gina's calendar has been read; Otto has none to read.
    const [g, o] = any.body.staff;
    expect(g).toEqual({ staffId: 'gina', importedAsOf: expect.any(String), needsReauth: false });
    expect(Date.now() - Date.parse(g.importedAsOf)).toBeLessThan(60_000);
    expect(o).toEqual({ staffId: 'otto', importedAsOf: null, needsReauth: false });

    expect(slotsOf((await ask({ mode: 'all' })).body)).toEqual([
      ['09:00', ['gina', 'otto']],
      ['12:00', ['gina', 'otto']],
    ]);
    // Balanced: Otto has an appointment in the window, Gina none, so Gina is named where both are free.
    expect(slotsOf((await ask({ pick: 'balanced' })).body)).toEqual([
      ['09:00', ['gina']],
      ['10:00', ['otto']],
      ['11:00', ['gina']],
      ['12:00', ['gina']],
    ]);
    // Hours sent with the request replace the stored ones; the answer is in the zone asked.
    const madrid = await ask({
      staffIds: ['otto'],
      timeZone: 'Europe/Madrid',
      workingHours: { otto: { timeZone: 'UTC', weekly: weekly('12:00', '15:00') } },
    });
    expect(madrid.body.slots.map((s: { start: string }) => new Date(s.start).toISOString().slice(11, 16))).toEqual([
      '12:00',
      '13:00',
      '14:00',
    ]);
    expect(madrid.body.slots[0].start).toMatch(/T\d\d:00:00\+0[12]:00$/);
  });

  test('a booking made on a returned slot takes it out of the next answer', async () => {
    const before = await ask();
    const slot = before.body.slots.find((s: { start: string }) => s.start === at('12:00'));
    expect(slot.staffIds).toEqual(['gina', 'otto']);
    const booked = await world.call('PUT', '/v1/appointments/gina-1', {
      revision: 1,
      start: slot.start,
      end: slot.end,
      timeZone: 'UTC',
      title: 'Colour',
      staffIds: ['gina'],
    });
    expect(booked.status).toBe(202);
    expect(slotsOf((await ask()).body)).toContainEqual(['12:00', ['otto']]);
    expect(slotsOf((await ask({ mode: 'all' })).body)).toEqual([['09:00', ['gina', 'otto']]]);
    // Moving that booking elsewhere: asking with excludeAppointmentId counts it as gone.
    expect(slotsOf((await ask({ mode: 'all', excludeAppointmentId: 'gina-1' })).body)).toContainEqual([
      '12:00',
      ['gina', 'otto'],
    ]);
    // Cancelled, it no longer blocks.
    await world.call('POST', '/v1/appointments/gina-1/cancel', {});
    expect(slotsOf((await ask()).body)).toContainEqual(['12:00', ['gina', 'otto']]);
  });

  test("a team calendar's members are the staff", async () => {
    const team = await world.call('PUT', '/v1/calendars/front-desk', {
      name: 'Front desk',
      linkId: gina.linkId,
      members: [
        { staffId: 'gina', access: 'read' },
        { staffId: 'otto', access: 'read' },
      ],
    });
    expect(team.status).toBeLessThan(300);
    const res = await ask({ staffIds: undefined, calendarId: 'front-desk', mode: 'all' });
    expect(res.status).toBe(200);
    expect(res.body.staff.map((s: { staffId: string }) => s.staffId)).toEqual(['gina', 'otto']);
    expect((await ask({ staffIds: undefined, calendarId: 'nope' })).status).toBe(404);
  });

  test('bad requests are 400s naming the field; staff of another tenant are unknown', async () => {
    const message = async (extra: Record<string, unknown>) => (await ask(extra)).body.message as string;
    expect(await message({ window: { from: at('10:00'), to: '2099-01-01T00:00:00Z' } })).toMatch(
      /^window\.to: must be at most 62 days/,
    );
    expect(await message({ window: { from: at('10:00'), to: at('09:00') } })).toMatch(/^window\.to: must be after/);
    expect(await message({ durationMinutes: 0 })).toMatch(/^durationMinutes:/);
    expect(await message({ timeZone: 'Nowhere/Land' })).toMatch(/^timeZone:/);
    expect(await message({ mode: 'some' })).toMatch(/^mode:/);
    expect(await message({ staffIds: ['gina', 'gina'] })).toMatch(/^staffIds: must not repeat/);
    expect(await message({ calendarId: 'front-desk' })).toMatch(/^staffIds: give either staffIds or calendarId/);
    expect(await message({ staffIds: Array.from({ length: 51 }, (_, i) => `s${i}`) })).toMatch(/^staffIds:/);
    expect(await message({ maxSlots: 100000 })).toMatch(/^maxSlots:/);
    expect(await message({ mode: 'all', pick: 'balanced' })).toMatch(/^pick:/);
    expect(
      await message({
        workingHours: { gina: { timeZone: 'UTC', weekly: { mon: [{ start: '10:00', end: '09:00' }] } } },
      }),
    ).toMatch(/^workingHours\.gina\.weekly\.mon\[0\]\.end: must be after start/);
    expect(await message({ workingHours: { zed: { timeZone: 'UTC', weekly: {} } } })).toMatch(/^workingHours\.zed:/);
    const other = await TenantWorld.create(stack.apiUrl);
    await other.call('PUT', '/v1/staff/otto', { name: 'Other Otto' });
    const foreign = await other.call('POST', '/v1/availability', {
      staffIds: ['otto', 'gina'],
      durationMinutes: 60,
      window: { from: at('00:00'), to: at('23:59') },
      timeZone: 'UTC',
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body.message).toBe('staffIds[1]: unknown staff member "gina"');
    const badHours = await world.call('PUT', '/v1/staff/otto', {
      name: 'Otto',
      workingHours: { timeZone: 'UTC', weekly: { mon: [{ start: '9:00', end: '17:00' }] } },
    });
    expect(badHours.status).toBe(400);
    expect(badHours.body.message).toMatch(/^workingHours\.weekly\.mon\[0\]\.start:/);
    // Leaving workingHours out keeps them; null removes them.
    expect((await world.call('PUT', '/v1/staff/otto', { name: 'Otto' })).body.workingHours.timeZone).toBe('UTC');
    expect((await world.call('PUT', '/v1/staff/otto', { name: 'Otto', workingHours: null })).body.workingHours).toBe(
      null,
    );
  });
});
