import { randomUUID } from 'node:crypto';
import { recordAttempt } from '../activities/attemptLog';
import type { ActivityDeps } from '../activities/deps';
import { ProviderError } from '../providers/errors';
import type { DesiredAppointment, PushMode, TargetSpec } from '../lib/types';
import { testDb } from './helpers/world';

/**
 * The target's row in PostgreSQL against attempts that end out of order: an attempt of an older
 * revision (its workflow task lost while its request was under way) may finish after a newer
 * revision's write. Its sync-log row is kept; the target's state stays the newer revision's.
 */
describe('recordAttempt', () => {
  const tenantId = `attempts-${randomUUID()}`;
  const appointmentId = 'appt-1';
  const target: TargetSpec = {
    targetKey: 'cal:attempts',
    kind: 'calendar',
    provider: 'google',
    linkId: 'link-1',
    calendarId: 'primary',
    remoteId: 'remote-1',
  };
  const deps = { db: testDb() } as unknown as ActivityDeps;
  const desired = (revision: number) => ({ tenantId, appointmentId, revision }) as DesiredAppointment;
  const record = (revision: number, mode: PushMode, outcome: Parameters<typeof recordAttempt>[4]) =>
    recordAttempt(deps, { target, desired: desired(revision), mode }, 1, 10, outcome);
  const row = () =>
    testDb()('appointment_targets')
      .where({ tenant_id: tenantId, appointment_id: appointmentId, target_key: target.targetKey })
      .first('state', 'applied_revision', 'applied_mode', 'remote_exists', 'last_error_code');
  const logged = () =>
    testDb()('sync_log')
      .where({ tenant_id: tenantId, appointment_id: appointmentId })
      .orderBy('id')
      .select('action', 'result', 'revision');

  afterAll(async () => {
    await testDb()('appointment_targets').where({ tenant_id: tenantId }).delete();
    await testDb()('sync_log').where({ tenant_id: tenantId }).delete();
  });

  test('an older revision that ends last neither undoes the newer state nor loses its log row', async () => {
    await record(1, 'upsert', { result: 'inserted', state: 'synced', remoteExists: true });
    await record(2, 'remove', { result: 'deleted', state: 'removed', remoteExists: false });
    expect(await row()).toMatchObject({ state: 'removed', applied_revision: '2', remote_exists: false });

    // Revision 1 again, finishing late: a success and a failure.
    await record(1, 'upsert', { result: 'inserted', state: 'synced', remoteExists: true });
    await record(1, 'upsert', {
      result: 'error',
      state: 'failed',
      error: new ProviderError('permanent', 'forbidden', 'no'),
    });
    expect(await row()).toMatchObject({
      state: 'removed',
      applied_revision: '2',
      applied_mode: 'remove',
      remote_exists: false,
      last_error_code: null,
    });
    expect(await logged()).toEqual([
      { action: 'upsert', result: 'inserted', revision: '1' },
      { action: 'remove', result: 'deleted', revision: '2' },
      { action: 'upsert', result: 'inserted', revision: '1' },
      { action: 'upsert', result: 'error', revision: '1' },
    ]);

    // The same revision again (a forced resync) and newer ones still move it on.
    await record(2, 'remove', { result: 'not_found', state: 'removed', remoteExists: false });
    await record(3, 'upsert', {
      result: 'error',
      state: 'failed',
      error: new ProviderError('permanent', 'forbidden', 'no'),
    });
    expect(await row()).toMatchObject({ state: 'failed', applied_revision: '2', last_error_code: 'forbidden' });
    await record(3, 'upsert', { result: 'inserted', state: 'synced', remoteExists: true });
    expect(await row()).toMatchObject({ state: 'synced', applied_revision: '3', remote_exists: true });
  });
});
