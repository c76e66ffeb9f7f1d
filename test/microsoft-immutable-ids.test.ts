import { microsoftEmulator } from './helpers/emulator';
import { useAppStack } from './helpers/stack';
import { TenantWorld, testDb } from './helpers/world';
import { waitUntil } from './helpers/api';

/**
 * Outlook ids change when an event moves to another calendar unless the request asks for immutable
 * ids (https://learn.microsoft.com/en-us/graph/outlook-immutable-id); calsync asks on every request.
 */
describe('Microsoft immutable ids', () => {
  const stack = useAppStack();
  const graph = async (path: string, accessToken: string, immutable: boolean) => {
    const res = await fetch(`${process.env.MICROSOFT_EMULATOR_URL}/v1.0${path}`, {
      headers: {
        authorization: `Bearer ${accessToken}`,
        ...(immutable ? { prefer: 'outlook.timezone="UTC", IdType="ImmutableId"' } : {}),
      },
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  test('the emulator: the default id changes on a move, the immutable one does not', async () => {
    const user = await microsoftEmulator.createUser('mover');
    const other = await microsoftEmulator.createCalendar(user.email, 'Archive');
    const made = await fetch(
      `${process.env.MICROSOFT_EMULATOR_URL}/_emulator/users/${encodeURIComponent(user.email)}/calendars/calendar/events`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          subject: 'Lunch',
          start: { dateTime: '2030-01-07T12:00:00', timeZone: 'UTC' },
          end: { dateTime: '2030-01-07T13:00:00', timeZone: 'UTC' },
        }),
      },
    );
    const immutableId: string = ((await made.json()) as { id: string }).id;
    const listed = await graph('/me/calendar/events', user.accessToken, false);
    const regularId: string = listed.body.value[0].id;
    expect(regularId).not.toBe(immutableId);
    expect((await graph(`/me/events/${encodeURIComponent(regularId)}`, user.accessToken, false)).status).toBe(200);

    await fetch(
      `${process.env.MICROSOFT_EMULATOR_URL}/_emulator/users/${encodeURIComponent(user.email)}/calendars/calendar/events/${encodeURIComponent(immutableId)}/move`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ destinationId: other.id }),
      },
    );
    // The id an app kept without asking for immutable ids names nothing now.
    expect((await graph(`/me/events/${encodeURIComponent(regularId)}`, user.accessToken, false)).status).toBe(404);
    const moved = await graph(`/me/events/${encodeURIComponent(immutableId)}`, user.accessToken, true);
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ id: immutableId, subject: 'Lunch' });
    const relisted = await graph(`/me/calendars/${encodeURIComponent(other.id)}/events`, user.accessToken, false);
    expect(relisted.body.value.map((e: { id: string }) => e.id)).toEqual([expect.not.stringMatching(regularId)]);
  });

  test('calsync keeps finding its event after the user moves it to another calendar', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const ben = await world.staffWithMicrosoft('ben');
    await world.put('moved-1', { revision: 1, staffIds: ['ben'] });
    await world.waitSynced('moved-1', 1);
    const [event] = await microsoftEmulator.events(ben.email, ben.calendarId);
    const row = await testDb()('appointment_targets')
      .where({ tenant_id: world.tenantId, appointment_id: 'moved-1' })
      .first();
    // calsync stored the id that never changes.
    expect(row.remote_id).toBe(event!.id);

    const elsewhere = await microsoftEmulator.createCalendar(ben.email, 'Personal');
    await fetch(
      `${process.env.MICROSOFT_EMULATOR_URL}/_emulator/users/${encodeURIComponent(ben.email)}/calendars/${encodeURIComponent(ben.calendarId)}/events/${encodeURIComponent(event!.id)}/move`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ destinationId: elsewhere.id }),
      },
    );
    expect(await microsoftEmulator.events(ben.email, ben.calendarId)).toEqual([]);

    await world.put('moved-1', { revision: 2, staffIds: ['ben'], title: 'Moved and renamed' });
    await world.waitSynced('moved-1', 2);
    // The same event, where the user put it, with the new title; no second copy made.
    await waitUntil('the moved event updated', async () => {
      const [there] = await microsoftEmulator.events(ben.email, elsewhere.id);
      return there?.subject.startsWith('Moved and renamed') ?? false;
    });
    const [there, ...more] = await microsoftEmulator.events(ben.email, elsewhere.id);
    expect(more).toEqual([]);
    expect(there!.id).toBe(event!.id);
    expect(await microsoftEmulator.events(ben.email, ben.calendarId)).toEqual([]);
  });
});
