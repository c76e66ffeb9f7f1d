import path from 'node:path';
import { spawnNode, type Service } from '../scripts/stack';
import { waitUntil } from './helpers/api';
import { IMPORT_OPERATIONS, googleEmulator } from './helpers/emulator';
import { useAppStack } from './helpers/stack';
import { TenantWorld, testDb } from './helpers/world';

/**
 * Requests to one remote account are paced across every worker process (slots reserved in
 * PostgreSQL), so calsync keeps within a provider's per-user limit per account, not per process.
 */
describe('per-account request pacing', () => {
  const pacing = { GOOGLE_ACCOUNT_REQUESTS_PER_MINUTE: '120', GOOGLE_ACCOUNT_BURST: '2', SYNC_COALESCE_MS: '50' };
  const stack = useAppStack(pacing);
  let second: Service | undefined;

  beforeAll(() => {
    // A second worker on the same task queue: the two share the account's budget.
    second = spawnNode('worker-2', 'workers/main.ts', {
      env: {
        ...pacing,
        CALSYNC_TASK_QUEUE: stack.taskQueue,
        WORKER_METRICS_PORT: '0',
        SYNC_ACTIVITY_INITIAL_RETRY_MS: '200',
        SYNC_ACTIVITY_MAX_RETRY_MS: '2000',
      },
      logFile: path.join(process.env.CALSYNC_TEST_TMP!, `worker-2-${stack.taskQueue}.log`),
    });
  });
  afterAll(async () => {
    await second?.stop();
  });

  test('twelve writes to one Google account start at most 2 per second (120/min, burst 2), with two workers', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const staff = await world.staffWithGoogle('pace');
    await googleEmulator.resetStats(staff.email);
    const ids = Array.from({ length: 12 }, (_, i) => `p-${i}`);
    await Promise.all(ids.map((id, i) => world.put(id, { revision: 1, staffIds: ['pace'], title: id }, 2 + i)));
    await waitUntil(
      'all written',
      async () => (await googleEmulator.liveEvents(staff.calendarId)).length === 12,
      60000,
      300,
    );

    const rows = await testDb()('sync_log')
      .where({ tenant_id: world.tenantId, result: 'inserted' })
      .orderBy('created_at')
      .select('created_at');
    expect(rows).toHaveLength(12);
    const spanMs = new Date(rows.at(-1)!.created_at).getTime() - new Date(rows[0]!.created_at).getTime();
    // 12 requests at 500 ms intervals with a burst of 2: at least 5 s from the first to the last
    // (a little jitter allowed).
    expect(spanMs).toBeGreaterThan(4500);
    // The import's reads of the same account take slots from the same budget; the writes are the 12.
    const { byOperation } = await googleEmulator.stats(staff.email);
    const writes = Object.entries(byOperation).filter(([op]) => !IMPORT_OPERATIONS.includes(op));
    expect(writes.reduce((n, [, o]) => n + o.total, 0)).toBe(12);
    expect(Object.values(byOperation).every((o) => o.failed === 0)).toBe(true);
    // Nothing was refused by the provider, nothing failed.
    expect(
      await testDb()('sync_log').where({ tenant_id: world.tenantId, result: 'error' }).count('* as n').first(),
    ).toEqual({ n: '0' });
  });
});
