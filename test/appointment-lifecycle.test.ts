import { googleEmulator } from './helpers/emulator';
import { useAppStack } from './helpers/stack';
import { TenantWorld, temporalClient } from './helpers/world';
import { waitUntil } from './helpers/api';

/** API → appointmentSync → pushToTarget → Google emulator, through a whole appointment's life. */
describe('appointment lifecycle in Google Calendar', () => {
  const stack = useAppStack();

  test('create → 10 rapid updates → reassign → cancel → delete keeps exactly the right events', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const alice = await world.staffWithGoogle('alice');
    const bob = await world.staffWithGoogle('bob');

    // Create
    const created = await world.put('visit-1', { revision: 1, staffIds: ['alice'], title: 'Haircut' });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({
      outcome: 'accepted',
      revision: 1,
      workflowId: `appt:${world.tenantId}:visit-1`,
    });
    const afterCreate = await world.waitSynced('visit-1', 1);
    const [event] = await googleEmulator.liveEvents(alice.calendarId);
    expect(await googleEmulator.liveEvents(alice.calendarId)).toHaveLength(1);
    expect(event!.id).toBe(afterCreate.sync.targets[0].remoteId);
    expect(event!.summary).toBe('Haircut – Ana García');
    expect(event!.description).toContain('Services: Haircut, Beard trim');
    expect(event!.description).toContain('Status: Confirmed');
    expect(event!.location).toBe('Calle Mayor 1, Madrid');
    expect(event!.start.timeZone).toBe('Europe/Madrid');
    expect(event!.start.dateTime).toMatch(/T10:00:00\+01:00$/);
    expect(event!.extendedProperties?.private?.calsyncId).toBe(`${world.tenantId}:visit-1`);

    // Ten rapid updates become one (at most two) remote writes.
    await googleEmulator.resetStats(alice.email);
    for (let revision = 2; revision <= 11; revision++) {
      const res = await world.put('visit-1', { revision, staffIds: ['alice'], title: `Haircut v${revision}` });
      expect(res.status).toBe(202);
    }
    await world.waitSynced('visit-1', 11);
    const burst = await googleEmulator.stats(alice.email);
    expect(burst.writes).toBeLessThanOrEqual(2);
    expect(burst.writes).toBeGreaterThanOrEqual(1);
    const updated = await googleEmulator.liveEvents(alice.calendarId);
    expect(updated).toHaveLength(1);
    expect(updated[0]!.summary).toBe('Haircut v11 – Ana García');
    expect(updated[0]!.extendedProperties?.private?.calsyncRevision).toBe('11');

    // Reassign to Bob: out of Alice's calendar, into Bob's.
    await world.put('visit-1', { revision: 12, staffIds: ['bob'], title: 'Haircut v12' });
    await world.waitSynced('visit-1', 12);
    expect(await googleEmulator.liveEvents(alice.calendarId)).toHaveLength(0);
    const bobs = await googleEmulator.liveEvents(bob.calendarId);
    expect(bobs.map((e) => e.summary)).toEqual(['Haircut v12 – Ana García']);

    // Cancel: the record stays, the calendar (default setting) drops the event.
    const cancelled = await world.call('POST', '/v1/appointments/visit-1/cancel', {});
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.revision).toBe(13);
    const afterCancel = await world.waitSynced('visit-1', 13);
    expect(afterCancel.status).toBe('cancelled');
    expect(await googleEmulator.liveEvents(bob.calendarId)).toHaveLength(0);

    // Delete: nothing anywhere, and the workflow closes.
    const deleted = await world.call('DELETE', '/v1/appointments/visit-1');
    expect(deleted.status).toBe(202);
    const afterDelete = await world.waitSynced('visit-1', 14);
    expect(afterDelete.deleted).toBe(true);
    expect(await googleEmulator.liveEvents(alice.calendarId)).toHaveLength(0);
    expect(await googleEmulator.liveEvents(bob.calendarId)).toHaveLength(0);
    const client = await temporalClient();
    await waitUntil('workflow to close', async () => {
      const d = await client.workflow.getHandle(`appt:${world.tenantId}:visit-1`).describe();
      return d.status.name === 'COMPLETED';
    });
  });

  test('re-creating a deleted appointment and reassigning back restore the remembered event, never a copy', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const carol = await world.staffWithGoogle('carol');
    const dave = await world.staffWithGoogle('dave');

    await world.put('visit-2', { revision: 1, staffIds: ['carol'] });
    await world.waitSynced('visit-2', 1);
    await world.call('DELETE', '/v1/appointments/visit-2?revision=2');
    await world.waitSynced('visit-2', 2);
    expect((await googleEmulator.events(carol.calendarId)).map((e) => e.status)).toEqual(['cancelled']);

    // Google answers 409 to the same id; calsync must bring the cancelled event back instead.
    await world.put('visit-2', { revision: 3, staffIds: ['carol'], title: 'Back again' });
    await world.waitSynced('visit-2', 3);
    const events = await googleEmulator.events(carol.calendarId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ status: 'confirmed', summary: 'Back again – Ana García' });

    await world.put('visit-2', { revision: 4, staffIds: ['dave'] });
    await world.waitSynced('visit-2', 4);
    await world.put('visit-2', { revision: 5, staffIds: ['carol'], title: 'Home' });
    await world.waitSynced('visit-2', 5);
    expect((await googleEmulator.events(carol.calendarId)).map((e) => [e.status, e.summary])).toEqual([
      ['confirmed', 'Home – Ana García'],
    ]);
    expect((await googleEmulator.events(dave.calendarId)).map((e) => e.status)).toEqual(['cancelled']);
  });

  test('a cancelled appointment stays visible as free time when the tenant keeps cancelled events', async () => {
    const world = await TenantWorld.create(stack.apiUrl, { cancelledEvents: 'keep' });
    const erin = await world.staffWithGoogle('erin');
    await world.put('visit-3', { revision: 1, staffIds: ['erin'] });
    await world.waitSynced('visit-3', 1);
    await world.call('POST', '/v1/appointments/visit-3/cancel', { revision: 2 });
    await world.waitSynced('visit-3', 2);
    const [event, ...rest] = await googleEmulator.liveEvents(erin.calendarId);
    expect(rest).toHaveLength(0);
    expect(event).toMatchObject({ summary: 'Cancelled: Haircut – Ana García', transparency: 'transparent' });
  });

  test('revisions delivered out of order converge to the highest', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const frank = await world.staffWithGoogle('frank');
    const revisions = [4, 9, 1, 7, 10, 2, 8, 3, 6, 5];
    const answers = await Promise.all(
      revisions.map((revision) => world.put('visit-4', { revision, staffIds: ['frank'], title: `Rev ${revision}` })),
    );
    expect(answers.every((a) => a.status === 202)).toBe(true);
    await world.waitSynced('visit-4', 10);
    const late = await world.put('visit-4', { revision: 6, staffIds: ['frank'], title: 'Rev 6 again' });
    expect(late.body).toMatchObject({ outcome: 'ignored', currentRevision: 10 });

    // Bypass the API's guard: the workflow itself must also ignore an older revision.
    const client = await temporalClient();
    const current = (await world.status('visit-4')) as { start: string; end: string };
    await client.workflow.getHandle(`appt:${world.tenantId}:visit-4`).signal('desiredState', {
      tenantId: world.tenantId,
      appointmentId: 'visit-4',
      revision: 3,
      type: 'appointment',
      status: 'confirmed',
      start: current.start,
      end: current.end,
      timeZone: 'Europe/Madrid',
      title: 'Stale',
      services: [],
      staffIds: ['frank'],
      deleted: false,
    });
    await new Promise((r) => setTimeout(r, 1500));
    const events = await googleEmulator.liveEvents(frank.calendarId);
    expect(events.map((e) => e.summary)).toEqual(['Rev 10 – Ana García']);
    expect((await world.status('visit-4')).sync.targets[0].appliedRevision).toBe(10);
  });

  test('the same revision with other content is a conflict; the same request again is harmless', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    await world.staffWithGoogle('gina');
    const first = await world.put('visit-5', { revision: 1, staffIds: ['gina'] });
    const again = await world.put('visit-5', { revision: 1, staffIds: ['gina'] });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.outcome).toBe('accepted');
    const other = await world.put('visit-5', { revision: 1, staffIds: ['gina'], title: 'Different' });
    expect(other.status).toBe(409);
    expect(other.body.error).toBe('revision_conflict');
  });
});
