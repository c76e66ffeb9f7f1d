import { googleEmulator } from './helpers/emulator';
import { useAppStack } from './helpers/stack';
import { TenantWorld, testDb } from './helpers/world';
import { waitUntil } from './helpers/api';

/** Provider failures: nothing duplicated, nothing lost, every attempt in the sync log. */
describe('sync under provider faults', () => {
  const stack = useAppStack({ SYNC_ACTIVITY_MAX_ATTEMPTS: '12' });

  test('"apply the write, then answer 500" on every first insert duplicates nothing', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const staff = await world.staffWithGoogle('hana');
    await googleEmulator.setFaults({ user: staff.email, applyThenFail: 'firstInsert' });
    try {
      const ids = Array.from({ length: 6 }, (_, i) => `dup-${i}`);
      await Promise.all(ids.map((id) => world.put(id, { revision: 1, staffIds: ['hana'], title: id })));
      await Promise.all(ids.map((id) => world.waitSynced(id, 1)));

      const events = await googleEmulator.events(staff.calendarId);
      expect(events).toHaveLength(ids.length);
      expect(new Set(events.map((e) => e.summary))).toEqual(new Set(ids.map((id) => `${id} – Ana García`)));
      expect(events.every((e) => e.status === 'confirmed')).toBe(true);
      const stats = await googleEmulator.stats(staff.email);
      // Each first insert was applied then answered 500; its retry met 409 and updated instead.
      expect((stats.byOperation['events.insert'] as any).byStatus).toMatchObject({ 500: ids.length, 409: ids.length });
      const failures = await testDb()('sync_log').where({
        tenant_id: world.tenantId,
        result: 'error',
        error_code: 'backendError',
      });
      expect(failures).toHaveLength(ids.length);
    } finally {
      await googleEmulator.clearFaults(staff.email);
    }
  });

  test('with 30% of calls failing 5xx/429 every appointment converges and the log shows the retries', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const staff = await world.staffWithGoogle('ivan');
    await googleEmulator.setFaults({
      user: staff.email,
      errorRate: 0.3,
      errorStatuses: [500, 503, 429],
      retryAfterSeconds: 1,
    });
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `flaky-${i}`);
      await Promise.all(ids.map((id) => world.put(id, { revision: 1, staffIds: ['ivan'], title: `${id} r1` })));
      await Promise.all(
        ids.slice(0, 10).map((id) => world.put(id, { revision: 2, staffIds: ['ivan'], title: `${id} r2` })),
      );
      await Promise.all(ids.slice(10, 15).map((id) => world.call('DELETE', `/v1/appointments/${id}?revision=2`)));
      await Promise.all(ids.map((id, i) => world.waitSynced(id, i < 15 ? 2 : 1, 90000)));

      const live = await googleEmulator.liveEvents(staff.calendarId);
      const expected = [
        ...ids.slice(0, 10).map((id) => `${id} r2 – Ana García`),
        ...ids.slice(15).map((id) => `${id} r1 – Ana García`),
      ];
      expect(live.map((e) => e.summary).sort()).toEqual(expected.sort());
      // A create and delete that fall in one coalescing window never reach Google at all.
      expect((await googleEmulator.events(staff.calendarId)).length).toBeLessThanOrEqual(20);

      const log = await testDb()('sync_log').where({ tenant_id: world.tenantId });
      const errors = log.filter((r) => r.result === 'error');
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every((r) => ['backendError', 'rateLimitExceeded'].includes(r.error_code))).toBe(true);
      expect(log.some((r) => r.result !== 'error' && r.attempt > 1)).toBe(true);
    } finally {
      await googleEmulator.clearFaults(staff.email);
    }
  });

  test("a 429's Retry-After is honoured before the next attempt", async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const staff = await world.staffWithGoogle('jon');
    await googleEmulator.setFaults({ user: staff.email, errorRate: 1, errorStatuses: [429], retryAfterSeconds: 2 });
    try {
      await world.put('slow-1', { revision: 1, staffIds: ['jon'] });
      const attempts = await waitUntil(
        'two rate-limited attempts',
        async () => {
          const rows = await testDb()('sync_log')
            .where({ tenant_id: world.tenantId, appointment_id: 'slow-1' })
            .orderBy('id');
          return rows.length >= 2 ? rows : undefined;
        },
        20000,
      );
      const gapMs = new Date(attempts[1].created_at).getTime() - new Date(attempts[0].created_at).getTime();
      expect(attempts[0].error_code).toBe('rateLimitExceeded');
      expect(gapMs).toBeGreaterThanOrEqual(1900);
      expect((await world.status('slow-1')).sync.state).toBe('retrying');
    } finally {
      await googleEmulator.clearFaults(staff.email);
    }
    await world.waitSynced('slow-1', 1);
  });

  test('a forbidden calendar fails visibly with the provider code, and a new revision syncs once fixed', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const staff = await world.staffWithGoogle('kim');
    await googleEmulator.forbidCalendar(staff.calendarId, true);
    await world.put('locked-1', { revision: 1, staffIds: ['kim'] });
    const failed = await waitUntil('failure to show', async () => {
      const s = await world.status('locked-1');
      return s.sync.state === 'failed' ? s : undefined;
    });
    expect(failed.sync.targets[0]).toMatchObject({ state: 'failed', lastError: { code: 'forbidden' } });
    const rows = await testDb()('sync_log').where({ tenant_id: world.tenantId, appointment_id: 'locked-1' });
    expect(rows).toHaveLength(1); // permanent: not retried
    expect(rows[0]).toMatchObject({ result: 'error', error_code: 'forbidden' });

    await googleEmulator.forbidCalendar(staff.calendarId, false);
    await world.put('locked-1', { revision: 2, staffIds: ['kim'] });
    await world.waitSynced('locked-1', 2);
    expect(await googleEmulator.liveEvents(staff.calendarId)).toHaveLength(1);
  });

  test('an expired access token is refreshed; a revoked grant marks the link needs_reauth and holds the write visibly', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const staff = await world.staffWithGoogle('lisa');
    await world.put('auth-1', { revision: 1, staffIds: ['lisa'] });
    await world.waitSynced('auth-1', 1);

    // The stored access token stops working: the 401 drops it and the retry refreshes it.
    await googleEmulator.expireAccessTokens(staff.email);
    await world.put('auth-1', { revision: 2, staffIds: ['lisa'], title: 'After expiry' });
    await world.waitSynced('auth-1', 2);
    expect((await googleEmulator.liveEvents(staff.calendarId)).map((e) => e.summary)).toEqual([
      'After expiry – Ana García',
    ]);
    const codes = (
      await testDb()('sync_log').where({ tenant_id: world.tenantId, appointment_id: 'auth-1' }).orderBy('id')
    ).map((r) => r.error_code);
    expect(codes).toEqual([null, 'authError', null]);

    // The user revokes calsync's access: nothing more to try until they reconnect.
    await googleEmulator.revokeUser(staff.email);
    await world.put('auth-1', { revision: 3, staffIds: ['lisa'], title: 'After revoke' });
    // Held until the account is reconnected (test/link-reauth.test.ts), not failed.
    const held = await waitUntil('held', async () => {
      const s = await world.status('auth-1');
      return s.sync.state === 'held' ? s : undefined;
    });
    expect(held.sync.targets[0]).toMatchObject({ state: 'held', lastError: { code: 'link_needs_reauth' } });
    expect(held.sync.targets[0].lastError.message).toContain('invalid_grant');
    const links = await world.call('GET', '/v1/staff/lisa/links');
    expect(links.body.links[0]).toMatchObject({ status: 'needs_reauth', statusReason: 'invalid_grant' });
    const row = await testDb()('calendar_links').where({ tenant_id: world.tenantId }).first();
    expect(row.refresh_token_sealed).toMatch(/^v1\./);
    expect(row.refresh_token_sealed).not.toContain('refresh');
  });
});
