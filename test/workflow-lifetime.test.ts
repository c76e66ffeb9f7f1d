import { googleEmulator } from './helpers/emulator';
import { useAppStack } from './helpers/stack';
import { TenantWorld, temporalClient } from './helpers/world';
import { waitUntil } from './helpers/api';

/** How long an appointment's workflow lives: it closes after the visit, and renews its history. */
describe('appointmentSync lifetime', () => {
  const stack = useAppStack({
    SYNC_CLOSE_AFTER_END_MS: '1000',
    SYNC_CONTINUE_AS_NEW_EVENTS: '60',
    SYNC_COALESCE_MS: '50',
  });

  test('closes once the appointment is over; a later change starts a new run that updates the same event', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const staff = await world.staffWithGoogle('nora');
    const start = new Date(Date.now() - 60_000).toISOString();
    const end = new Date(Date.now() + 2_000).toISOString();
    await world.put('short-1', { revision: 1, staffIds: ['nora'], start, end, timeZone: 'UTC' });
    await world.waitSynced('short-1', 1);

    const client = await temporalClient();
    const handle = client.workflow.getHandle(`appt:${world.tenantId}:short-1`);
    const firstRun = (await handle.describe()).runId;
    await waitUntil(
      'workflow to close after the end',
      async () => (await handle.describe()).status.name === 'COMPLETED',
      15000,
      250,
    );
    expect((await world.status('short-1')).sync.state).toBe('synced');

    // A note added after the visit: a new run, which knows from PostgreSQL that the event exists.
    await googleEmulator.resetStats(staff.email);
    await world.put('short-1', { revision: 2, staffIds: ['nora'], start, end, timeZone: 'UTC', description: 'Paid' });
    await world.waitSynced('short-1', 2);
    expect((await handle.describe()).runId).not.toBe(firstRun);
    const stats = await googleEmulator.stats(staff.email);
    expect(stats.byOperation['events.insert']).toBeUndefined();
    expect(stats.byOperation['events.update']?.ok).toBe(1);
    const events = await googleEmulator.events(staff.calendarId);
    expect(events).toHaveLength(1);
    expect(events[0]!.description).toContain('Paid');
  });

  test('continues as new before the history grows large, without losing state', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const staff = await world.staffWithGoogle('olga');
    const client = await temporalClient();
    const handle = client.workflow.getHandle(`appt:${world.tenantId}:long-1`);
    let firstRun: string | undefined;
    for (let revision = 1; revision <= 12; revision++) {
      await world.put('long-1', { revision, staffIds: ['olga'], title: `Edit ${revision}` });
      await world.waitSynced('long-1', revision);
      firstRun ??= (await handle.describe()).runId;
    }
    const now = await handle.describe();
    expect(now.runId).not.toBe(firstRun);
    expect(now.status.name).toBe('RUNNING');
    const events = await googleEmulator.events(staff.calendarId);
    expect(events.map((e) => e.summary)).toEqual(['Edit 12 – Ana García']);
    // Only the very first write was an insert: later runs knew the event existed.
    expect((await googleEmulator.stats(staff.email)).byOperation['events.insert']?.total).toBe(1);
  });
});
