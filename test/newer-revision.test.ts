import { googleEmulator } from './helpers/emulator';
import { useAppStack } from './helpers/stack';
import { TenantWorld, testDb } from './helpers/world';
import { waitUntil } from './helpers/api';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const titled = (prefix: string) => (w: { title?: string }) => w.title?.startsWith(`${prefix} – `) === true;

/**
 * A newer revision never waits behind an older one: a push that keeps failing is cancelled when a
 * newer revision arrives, the other calendars get the newer content at once, and the failing one
 * gets it (and only it) as soon as it recovers. Each retry learns from PostgreSQL what exists remotely.
 */
describe('a newer revision supersedes the retries of an older one', () => {
  // Enough attempts (every 2 s at most) to outlast the 30 s outage: the older push would never give up by itself in time.
  const stack = useAppStack({ SYNC_ACTIVITY_MAX_ATTEMPTS: '60' });

  test('with every write to one calendar failing 503 for 30 s, the newer revision reaches both calendars as soon as each can take it', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const healthy = await world.staffWithGoogle('olga');
    const failing = await world.staffWithGoogle('pau');
    await world.put('moved-1', { revision: 1, staffIds: ['olga', 'pau'], title: 'v1' });
    await world.waitSynced('moved-1', 1);
    await googleEmulator.resetStats(failing.email);

    await googleEmulator.setFaults({ user: failing.email, errorRate: 1, errorStatuses: [503] });
    const outageStartedAt = Date.now();
    try {
      await world.put('moved-1', { revision: 2, staffIds: ['olga', 'pau'], title: 'v2' });
      // The older revision's push to the failing calendar is retrying.
      await waitUntil('retries of revision 2', async () => {
        const stats = await googleEmulator.stats(failing.email);
        return (stats.byOperation['events.update']?.failed ?? 0) >= 3;
      });

      const putAt = Date.now();
      await world.put('moved-1', { revision: 3, staffIds: ['olga', 'pau'], title: 'v3' });
      await waitUntil(
        'revision 3 in the healthy calendar',
        async () => (await googleEmulator.writes(healthy.email)).some(titled('v3')),
        8000,
        50,
      );
      const healthyAfterMs = Date.now() - putAt;
      expect(healthyAfterMs).toBeLessThan(5000);

      await sleep(outageStartedAt + 30_000 - Date.now());
    } finally {
      await googleEmulator.clearFaults(failing.email);
    }
    const recoveredAt = Date.now();
    await waitUntil(
      'revision 3 in the recovered calendar',
      async () => (await googleEmulator.writes(failing.email)).some(titled('v3')),
      10_000,
      50,
    );
    // The retry interval is at most 2 s here: the next attempt after the recovery writes it.
    expect(Date.now() - recoveredAt).toBeLessThan(6000);
    await world.waitSynced('moved-1', 3);

    // Stale content is never written after the newer one: not in either calendar.
    for (const email of [healthy.email, failing.email]) {
      const writes = await googleEmulator.writes(email);
      const firstV3 = writes.findIndex(titled('v3'));
      expect(firstV3).toBeGreaterThanOrEqual(0);
      expect(writes.slice(firstV3).every(titled('v3'))).toBe(true);
    }
    // Revision 2 never reached the failing calendar at all: it failed until revision 3 replaced it.
    expect((await googleEmulator.writes(failing.email)).some(titled('v2'))).toBe(false);
    const live = await googleEmulator.liveEvents(failing.calendarId);
    expect(live.map((e) => e.summary)).toEqual(['v3 – Ana García']);

    // One request per attempt (the event is known to exist: an update, never insert → 409 → update),
    // and one sync-log row per attempt.
    const stats = await googleEmulator.stats(failing.email);
    expect(stats.byOperation['events.insert']).toBeUndefined();
    const rejected: number = (stats.byOperation['events.update'] as any).byStatus['503'] ?? 0;
    const [target] = await testDb()('appointment_targets').where({
      tenant_id: world.tenantId,
      appointment_id: 'moved-1',
      calendar_id: failing.calendarId,
    });
    const errorRows = await testDb()('sync_log').where({
      tenant_id: world.tenantId,
      appointment_id: 'moved-1',
      target_key: target.target_key,
      result: 'error',
    });
    expect(errorRows.length).toBe(rejected);
    expect(new Set(errorRows.map((r) => Number(r.revision)))).toEqual(new Set([2, 3]));
  }, 90_000);

  test('a retry after a write that applied but failed updates the event: one request, not insert → 409 → update', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const staff = await world.staffWithGoogle('quim');
    await googleEmulator.resetStats(staff.email);
    await googleEmulator.setFaults({ user: staff.email, applyThenFail: 'always' });
    try {
      await world.put('lost-answer-1', { revision: 1, staffIds: ['quim'], title: 'once' });
      await waitUntil(
        'six failed attempts',
        async () =>
          (
            await testDb()('sync_log').where({
              tenant_id: world.tenantId,
              appointment_id: 'lost-answer-1',
              result: 'error',
            })
          ).length >= 6,
        30_000,
      );
    } finally {
      await googleEmulator.clearFaults(staff.email);
    }
    await world.waitSynced('lost-answer-1', 1);
    const stats = await googleEmulator.stats(staff.email);
    // The first insert applied (answered 500); the second met 409, updated, and from then on the
    // target's stored state says the event exists: every later attempt is one update.
    expect(stats.byOperation['events.insert']!.total).toBeLessThanOrEqual(2);
    const errorRows = await testDb()('sync_log').where({
      tenant_id: world.tenantId,
      appointment_id: 'lost-answer-1',
      result: 'error',
    });
    // Event requests only (the link's busy-time import reads the same account meanwhile).
    const attempts = errorRows.length + 1;
    const eventRequests = stats.byOperation['events.insert']!.total + (stats.byOperation['events.update']?.total ?? 0);
    expect(eventRequests).toBeLessThanOrEqual(attempts + 1);
    expect(await googleEmulator.liveEvents(staff.calendarId)).toHaveLength(1);
  }, 60_000);
});
