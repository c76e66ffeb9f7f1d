import { googleEmulator } from './helpers/emulator';
import { useAppStack } from './helpers/stack';
import { TenantWorld, testDb } from './helpers/world';

/** A worker killed with SIGKILL mid-sync: another start finishes the job, nothing lost or doubled. */
describe('worker crash in the middle of a sync', () => {
  // A short activity timeout so the attempt that died with the worker is retried quickly.
  const stack = useAppStack({ SYNC_ACTIVITY_TIMEOUT_MS: '4000' });

  test('the sync completes after the worker is killed and started again', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const staff = await world.staffWithGoogle('lena');
    // Slow calls keep the remote writes in flight when the worker dies.
    await googleEmulator.setFaults({ user: staff.email, latencyMs: 3000 });
    const ids = Array.from({ length: 8 }, (_, i) => `crash-${i}`);
    await Promise.all(ids.map((id) => world.put(id, { revision: 1, staffIds: ['lena'], title: id })));

    // Coalescing takes ~300 ms, then each write hangs in the emulator for 3 s: kill inside that window.
    await new Promise((r) => setTimeout(r, 1200));
    await stack.killWorker();
    const loggedBeforeRestart = await testDb()('sync_log')
      .where({ tenant_id: world.tenantId })
      .count<{ count: string }[]>('id as count');
    expect(Number(loggedBeforeRestart[0]!.count)).toBeLessThan(ids.length);

    // Changes accepted while no worker runs are kept by Temporal, not lost.
    await Promise.all(
      ids.slice(0, 4).map((id) => world.put(id, { revision: 2, staffIds: ['lena'], title: `${id} after crash` })),
    );
    await googleEmulator.clearFaults(staff.email);
    await stack.startWorker();

    await Promise.all(ids.map((id, i) => world.waitSynced(id, i < 4 ? 2 : 1, 60000)));
    const events = await googleEmulator.events(staff.calendarId);
    expect(events).toHaveLength(ids.length);
    expect(events.map((e) => e.summary).sort()).toEqual(
      ids.map((id, i) => `${i < 4 ? `${id} after crash` : id} – Ana García`).sort(),
    );
    expect(events.every((e) => e.status === 'confirmed')).toBe(true);
  });
  // The first attempt of a write runs inside the workflow task (a local activity): until that task
  // completes, its history does not say the write was tried. A worker killed while the provider is
  // applying it, and a reassignment accepted meanwhile, must not leave the event in the old calendar.
  test('an event written by an attempt that died with its worker is removed when the appointment moves meanwhile', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const from = await world.staffWithGoogle('ines');
    const to = await world.staffWithGoogle('omar');
    await googleEmulator.setFaults({ user: from.email, latencyMs: 2500 });
    expect((await world.put('moved', { revision: 1, staffIds: ['ines'], title: 'Trim' })).status).toBe(202);
    // The insert is in the emulator's hands (it applies it after 2.5 s) when the worker dies.
    await new Promise((r) => setTimeout(r, 1000));
    await stack.killWorker();
    await new Promise((r) => setTimeout(r, 2500));
    expect((await googleEmulator.events(from.calendarId)).map((e) => e.summary)).toEqual(['Trim – Ana García']);
    expect((await world.put('moved', { revision: 2, staffIds: ['omar'], title: 'Trim' })).status).toBe(202);
    await googleEmulator.clearFaults(from.email);
    await stack.startWorker();

    await world.waitSynced('moved', 2, 60000);
    expect((await googleEmulator.events(to.calendarId)).map((e) => e.summary)).toEqual(['Trim – Ana García']);
    const left = (await googleEmulator.events(from.calendarId)).filter((e) => e.status !== 'cancelled');
    expect(left).toEqual([]);
  });
});
