import { googleEmulator } from './helpers/emulator';
import { useAppStack } from './helpers/stack';
import { TenantWorld, temporalClient, testDb } from './helpers/world';
import { waitUntil } from './helpers/api';

/** The history events of an appointment's workflow, by type name (EVENT_TYPE_… without the prefix). */
async function historyOf(tenantId: string, appointmentId: string): Promise<string[]> {
  const history = await (await temporalClient()).workflow.getHandle(`appt:${tenantId}:${appointmentId}`).fetchHistory();
  const { temporal } = await import('@temporalio/proto');
  return (history.events ?? []).map((e) =>
    String(temporal.api.enums.v1.EventType[e.eventType ?? 0]).replace(/^EVENT_TYPE_/, ''),
  );
}

/**
 * What one change costs Temporal: a change whose writes succeed is decided and written within one
 * workflow task (its first attempt is a local activity); only a failed first attempt goes on as a
 * normal activity with the server's retries, and the sync log numbers its attempts on from the first.
 */
describe('the cost of a change', () => {
  const stack = useAppStack();

  test('a new appointment reaches its calendar in one workflow task, without an activity task', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    await world.staffWithGoogle('rita');
    await world.put('cheap-1', { revision: 1, staffIds: ['rita'], title: 'once' });
    await world.waitSynced('cheap-1', 1);

    const events = await historyOf(world.tenantId, 'cheap-1');
    expect(events.filter((e) => e === 'WORKFLOW_TASK_COMPLETED')).toHaveLength(1);
    expect(events).not.toContain('ACTIVITY_TASK_SCHEDULED');
    expect(events.length).toBeLessThanOrEqual(10);
    const [row] = await testDb()('sync_log').where({ tenant_id: world.tenantId, appointment_id: 'cheap-1' });
    expect(row).toMatchObject({ result: 'inserted', attempt: 1 });
  }, 60_000);

  test('a failed first attempt goes on as an activity; the log numbers its attempts 1, 2, 3', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const staff = await world.staffWithGoogle('sara');
    await googleEmulator.setFaults({ user: staff.email, errorRate: 1, errorStatuses: [503] });
    try {
      await world.put('retried-1', { revision: 1, staffIds: ['sara'], title: 'later' });
      await waitUntil(
        'two failed attempts',
        async () =>
          (await testDb()('sync_log').where({ tenant_id: world.tenantId, appointment_id: 'retried-1' })).length >= 2,
        30_000,
      );
    } finally {
      await googleEmulator.clearFaults(staff.email);
    }
    await world.waitSynced('retried-1', 1);

    const rows = await testDb()('sync_log')
      .where({ tenant_id: world.tenantId, appointment_id: 'retried-1' })
      .orderBy('id');
    expect(rows.map((r) => Number(r.attempt))).toEqual(rows.map((_, i) => i + 1));
    expect(rows.at(-1)).toMatchObject({ result: 'inserted' });
    expect(rows.slice(0, -1).every((r) => r.result === 'error' && r.error_code !== null)).toBe(true);
    expect(await historyOf(world.tenantId, 'retried-1')).toContain('ACTIVITY_TASK_SCHEDULED');
    expect(await googleEmulator.liveEvents(staff.calendarId)).toHaveLength(1);
  }, 60_000);
});
