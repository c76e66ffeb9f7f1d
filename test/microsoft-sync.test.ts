import { SecretBox } from '../lib/secretBox';
import { remoteEventId } from '../lib/remoteIds';
import { IMPORT_OPERATIONS, googleEmulator, microsoftEmulator } from './helpers/emulator';
import { useAppStack } from './helpers/stack';
import { TenantWorld, temporalClient, testDb } from './helpers/world';
import { waitUntil } from './helpers/api';
import { targetKeyFor } from '../activities/targets';

/** API → appointmentSync → pushToTarget → Microsoft Graph emulator (HTTPS, real Graph client). */
describe('appointments in Microsoft 365 calendars', () => {
  const stack = useAppStack({ SYNC_ACTIVITY_MAX_ATTEMPTS: '12' });
  const day = () => new Date(Date.now() + 3 * 86400000).toISOString().slice(0, 10);

  test('create → burst → reassign to Google and back → cancel (kept) → delete: exactly the right events', async () => {
    const world = await TenantWorld.create(stack.apiUrl, { cancelledEvents: 'keep' });
    const ben = await world.staffWithMicrosoft('ben');
    const carla = await world.staffWithGoogle('carla');
    expect(ben.calendarId).toBe('calendar');

    // Create
    await world.put('visit-1', { revision: 1, staffIds: ['ben'] });
    const afterCreate = await world.waitSynced('visit-1', 1);
    const [event, ...none] = await microsoftEmulator.events(ben.email);
    expect(none).toEqual([]);
    expect(event).toMatchObject({
      subject: 'Haircut – Ana García',
      showAs: 'busy',
      location: { displayName: 'Calle Mayor 1, Madrid' },
      start: { dateTime: `${day()}T10:00:00.0000000`, timeZone: 'Romance Standard Time' },
      end: { dateTime: `${day()}T11:00:00.0000000`, timeZone: 'Romance Standard Time' },
    });
    expect(event!.body.content).toBe(
      'Client: Ana García\nServices: Haircut, Beard trim\nStatus: Confirmed\n\nPrefers the window seat',
    );
    const targetKey = targetKeyFor({ provider: 'microsoft', account_email: ben.email, calendar_id: ben.calendarId });
    expect(microsoftEmulator.tag(event!, 'calsyncId')).toBe(`${world.tenantId}:visit-1`);
    expect(microsoftEmulator.tag(event!, 'calsyncTarget')).toBe(remoteEventId(world.tenantId, 'visit-1', targetKey));
    // Graph picked the id; calsync stored it and shows it.
    expect(event!.id).toMatch(/^AAMkAG/);
    expect(afterCreate.sync.targets).toEqual([
      expect.objectContaining({ targetKey, provider: 'microsoft', remoteId: event!.id, state: 'synced' }),
    ]);
    const row = await testDb()('appointment_targets')
      .where({ tenant_id: world.tenantId, appointment_id: 'visit-1' })
      .first();
    expect(row.remote_id).toBe(event!.id);

    // Ten quick updates: one or two PATCHes of the same event.
    await microsoftEmulator.resetStats(ben.email);
    for (let revision = 2; revision <= 11; revision++) {
      const status = revision === 11 ? 'tentative' : 'confirmed';
      expect(
        (await world.put('visit-1', { revision, staffIds: ['ben'], title: `Haircut v${revision}`, status })).status,
      ).toBe(202);
    }
    await world.waitSynced('visit-1', 11);
    const burst = await microsoftEmulator.stats(ben.email);
    expect(burst.writes).toBeGreaterThanOrEqual(1);
    expect(burst.writes).toBeLessThanOrEqual(2);
    // Busy-time import reads the calendar too (calendarView.delta after each push): not sync writes.
    expect(Object.keys(burst.byOperation).filter((op) => !IMPORT_OPERATIONS.includes(op))).toEqual(['events.update']);
    const updated = await microsoftEmulator.events(ben.email);
    expect(updated.map((e) => [e.id, e.subject, e.showAs, microsoftEmulator.tag(e, 'calsyncRevision')])).toEqual([
      [event!.id, 'Haircut v11 – Ana García', 'tentative', '11'],
    ]);

    // Reassign to Carla (Google): out of Ben's mailbox, into her calendar.
    await world.put('visit-1', { revision: 12, staffIds: ['carla'], title: 'Haircut v12' });
    await world.waitSynced('visit-1', 12);
    expect(await microsoftEmulator.events(ben.email)).toEqual([]);
    expect((await googleEmulator.liveEvents(carla.calendarId)).map((e) => e.summary)).toEqual([
      'Haircut v12 – Ana García',
    ]);

    // And back: a new Graph event (the old one is gone), nothing left with Carla.
    await world.put('visit-1', { revision: 13, staffIds: ['ben'], title: 'Haircut v13' });
    const back = await world.waitSynced('visit-1', 13);
    const [returned, ...extra] = await microsoftEmulator.events(ben.email);
    expect(extra).toEqual([]);
    expect(returned!.subject).toBe('Haircut v13 – Ana García');
    expect(returned!.id).not.toBe(event!.id);
    expect(back.sync.targets.find((t: any) => t.targetKey === targetKey).remoteId).toBe(returned!.id);
    expect(await googleEmulator.liveEvents(carla.calendarId)).toEqual([]);

    // Cancel, with the tenant keeping cancelled visits: marked and free, same event.
    const cancelled = await world.call('POST', '/v1/appointments/visit-1/cancel', {});
    expect(cancelled.body.revision).toBe(14);
    await world.waitSynced('visit-1', 14);
    const kept = await microsoftEmulator.events(ben.email);
    expect(kept.map((e) => [e.id, e.subject, e.showAs])).toEqual([
      [returned!.id, 'Cancelled: Haircut v13 – Ana García', 'free'],
    ]);

    // Delete: nothing anywhere, and the workflow closes.
    expect((await world.call('DELETE', '/v1/appointments/visit-1')).status).toBe(202);
    await world.waitSynced('visit-1', 15);
    expect(await microsoftEmulator.events(ben.email)).toEqual([]);
    expect(await googleEmulator.liveEvents(carla.calendarId)).toEqual([]);
    const client = await temporalClient();
    await waitUntil('workflow to close', async () => {
      const d = await client.workflow.getHandle(`appt:${world.tenantId}:visit-1`).describe();
      return d.status.name === 'COMPLETED';
    });
  });

  test('"apply the write, then answer 500" on every first create duplicates nothing', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const dana = await world.staffWithMicrosoft('dana');
    await microsoftEmulator.setFaults({ user: dana.email, applyThenFail: 'firstInsert' });
    try {
      const ids = Array.from({ length: 6 }, (_, i) => `dup-${i}`);
      await Promise.all(ids.map((id) => world.put(id, { revision: 1, staffIds: ['dana'], title: id })));
      const synced = await Promise.all(ids.map((id) => world.waitSynced(id, 1, 60000)));

      const events = await microsoftEmulator.events(dana.email);
      expect(events.map((e) => e.subject).sort()).toEqual(ids.map((id) => `${id} – Ana García`).sort());
      // Each target stored the id of the one event its lost create made.
      expect(synced.map((s) => s.sync.targets[0].remoteId).sort()).toEqual(events.map((e) => e.id).sort());
      const creates = (await microsoftEmulator.stats(dana.email)).byOperation['events.create']!;
      // Every create that reached the mailbox was applied and answered 500; none made a second event.
      expect(creates.byStatus['500']).toBe(ids.length);
      expect(creates.byStatus['201']).toBeUndefined();
      const failures = await testDb()('sync_log').where({
        tenant_id: world.tenantId,
        result: 'error',
        error_code: 'ErrorInternalServerError',
      });
      expect(failures).toHaveLength(ids.length);
      const outcomes = await testDb()('sync_log')
        .where({ tenant_id: world.tenantId })
        .whereNot({ result: 'error' })
        .pluck('result');
      expect(outcomes.sort()).toEqual(Array(ids.length).fill('restored'));
    } finally {
      await microsoftEmulator.clearFaults(dana.email);
    }
  });

  test('with 30% of calls answered 429/503 every appointment converges, Retry-After honoured', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const eli = await world.staffWithMicrosoft('eli');
    await microsoftEmulator.setFaults({
      user: eli.email,
      errorRate: 0.3,
      errorStatuses: [429, 503],
      retryAfterSeconds: 1,
    });
    try {
      const ids = Array.from({ length: 12 }, (_, i) => `flaky-${i}`);
      await Promise.all(ids.map((id) => world.put(id, { revision: 1, staffIds: ['eli'], title: `${id} r1` })));
      await Promise.all(ids.map((id) => world.waitSynced(id, 1, 90000)));
      await Promise.all(
        ids.slice(0, 6).map((id) => world.put(id, { revision: 2, staffIds: ['eli'], title: `${id} r2` })),
      );
      await Promise.all(ids.slice(6, 9).map((id) => world.call('DELETE', `/v1/appointments/${id}?revision=2`)));
      await Promise.all(ids.map((id, i) => world.waitSynced(id, i < 9 ? 2 : 1, 90000)));

      const expected = [
        ...ids.slice(0, 6).map((id) => `${id} r2 – Ana García`),
        ...ids.slice(9).map((id) => `${id} r1 – Ana García`),
      ];
      expect((await microsoftEmulator.events(eli.email)).map((e) => e.subject).sort()).toEqual(expected.sort());
      const log = await testDb()('sync_log').where({ tenant_id: world.tenantId });
      const errors = log.filter((r) => r.result === 'error');
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.filter((r) => !['ApplicationThrottled', 'ServiceUnavailable'].includes(r.error_code))).toEqual([]);
      expect(log.some((r) => r.result !== 'error' && r.attempt > 1)).toBe(true);
    } finally {
      await microsoftEmulator.clearFaults(eli.email);
    }
  });

  test('tokens: the rotated refresh token is stored; an expired access token is refreshed; a revoked grant marks the link needs_reauth', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const fay = await world.staffWithMicrosoft('fay');
    await world.put('auth-1', { revision: 1, staffIds: ['fay'] });
    await world.waitSynced('auth-1', 1);
    const secrets = new SecretBox(process.env.CALSYNC_TOKEN_KEYS!);
    const link = await testDb()('calendar_links').where({ id: fay.linkId }).first();
    const stored = secrets.open(link.refresh_token_sealed);
    // Microsoft answered the refresh with a new refresh token: calsync keeps the newest.
    expect(stored).not.toBe(fay.refreshToken);
    expect(stored).toMatch(/^0\.AXEA/);

    await microsoftEmulator.expireAccessTokens(fay.email);
    await world.put('auth-1', { revision: 2, staffIds: ['fay'], title: 'After expiry' });
    await world.waitSynced('auth-1', 2);
    expect((await microsoftEmulator.events(fay.email)).map((e) => e.subject)).toEqual(['After expiry – Ana García']);
    const codes = (
      await testDb()('sync_log').where({ tenant_id: world.tenantId, appointment_id: 'auth-1' }).orderBy('id')
    ).map((r) => r.error_code);
    expect(codes).toEqual([null, 'InvalidAuthenticationToken', null]);

    await microsoftEmulator.revokeUser(fay.email);
    await world.put('auth-1', { revision: 3, staffIds: ['fay'], title: 'After revoke' });
    // Held until the account is reconnected (test/link-reauth.test.ts), not failed.
    const held = await waitUntil('held', async () => {
      const s = await world.status('auth-1');
      return s.sync.state === 'held' ? s : undefined;
    });
    expect(held.sync.targets[0]).toMatchObject({ state: 'held', lastError: { code: 'link_needs_reauth' } });
    expect(held.sync.targets[0].lastError.message).toContain('invalid_grant');
    const links = await world.call('GET', '/v1/staff/fay/links');
    expect(links.body.links).toEqual([
      expect.objectContaining({
        provider: 'microsoft',
        calendarId: 'calendar',
        status: 'needs_reauth',
        statusReason: 'invalid_grant',
      }),
    ]);
    expect((await microsoftEmulator.events(fay.email)).map((e) => e.subject)).toEqual(['After expiry – Ana García']);
  });

  test('a forbidden calendar fails visibly with ErrorAccessDenied and is not retried', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const gil = await world.staffWithMicrosoft('gil');
    await microsoftEmulator.forbidCalendar(gil.email, true);
    await world.put('locked-1', { revision: 1, staffIds: ['gil'] });
    const failed = await waitUntil('failure to show', async () => {
      const s = await world.status('locked-1');
      return s.sync.state === 'failed' ? s : undefined;
    });
    expect(failed.sync.targets[0]).toMatchObject({ state: 'failed', lastError: { code: 'ErrorAccessDenied' } });
    const rows = await testDb()('sync_log').where({ tenant_id: world.tenantId, appointment_id: 'locked-1' });
    expect(rows.map((r) => [r.result, r.error_code])).toEqual([['error', 'ErrorAccessDenied']]);
  });
});
