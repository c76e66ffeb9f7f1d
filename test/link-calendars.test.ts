import { randomUUID } from 'node:crypto';
import { call, waitUntil } from './helpers/api';
import { googleEmulator, microsoftEmulator } from './helpers/emulator';
import { useAppStack } from './helpers/stack';
import { TenantWorld, temporalClient, testDb } from './helpers/world';

/** Where a link's events go: a dedicated calendar named after the business (the default) or the primary one. */
describe('link target calendars', () => {
  const stack = useAppStack();

  /** A tenant as the product makes it: no calendarMode set (the test helpers default to primary). */
  async function productDefaultTenant(businessName: string): Promise<TenantWorld> {
    const tenantId = `t-${randomUUID().slice(0, 12)}`;
    const res = await call(stack.apiUrl, 'POST', '/v1/admin/tenants', {
      key: process.env.CALSYNC_ADMIN_KEY,
      body: { id: tenantId, name: 'Tenant', settings: { businessName } },
    });
    expect(res.status).toBe(201);
    return new TenantWorld(stack.apiUrl, tenantId, res.body.apiKey);
  }

  async function seed(world: TenantWorld, staffId: string) {
    await world.call('PUT', `/v1/staff/${staffId}`, { name: staffId });
    for (const [id, day] of [
      ['d1', 2],
      ['d2', 4],
    ] as const)
      await world.put(id, { revision: 1, staffIds: [staffId], title: id }, day);
    for (const id of ['d1', 'd2']) await world.waitSynced(id, 1);
  }

  /** A new grant of an existing emulated Microsoft account (disconnecting revokes the earlier ones). */
  const freshGrant = (email: string) =>
    fetch(`${process.env.MICROSOFT_EMULATOR_URL}/_emulator/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email }),
    }).then((r) => r.json() as Promise<{ email: string; refreshToken: string }>);

  const attach = async (
    world: TenantWorld,
    staffId: string,
    provider: 'google' | 'microsoft',
    user: { email: string; refreshToken: string },
  ) => {
    const res = await world.call('POST', `/v1/staff/${staffId}/links/${provider}`, {
      accountEmail: user.email,
      refreshToken: user.refreshToken,
    });
    expect(res.status).toBe(201);
    return res.body;
  };

  test('google: by default a dedicated calendar named after the business, made once even when its creation answer is lost', async () => {
    const world = await productDefaultTenant('Barbería Sol');
    await seed(world, 'uma');
    const user = await googleEmulator.createUser('uma');
    // calendars.insert applies, then answers 500 (and so does the first events.insert): retries must not make a second.
    await googleEmulator.setFaults({ user: user.email, applyThenFail: 'firstInsert' });
    const link = await attach(world, 'uma', 'google', user);
    expect(link.status).toBe('connecting');
    await world.linkConnected(link.id);

    const row = await testDb()('calendar_links').where({ id: link.id }).first();
    expect(row).toMatchObject({ status: 'active', calendar_owned: true, calendar_ready: true });
    const calendars = await googleEmulator.calendars(user.email);
    expect(calendars.filter((c) => !c.primary).map((c) => [c.id, c.summary])).toEqual([
      [row.calendar_id, 'Barbería Sol'],
    ]);
    await waitUntil(
      'backfill',
      async () => (await googleEmulator.liveEvents(row.calendar_id)).length === 2,
      30000,
      200,
    );
    expect(await googleEmulator.liveEvents(user.email)).toEqual([]);
    expect((await googleEmulator.stats(user.email)).byOperation['calendars.insert']).toMatchObject({
      total: 1,
      failed: 1,
    });
    await googleEmulator.clearFaults(user.email);

    // Another staff member on the same account: the same calendar, found, not made again.
    await world.call('PUT', '/v1/staff/vic', { name: 'vic' });
    const second = await attach(world, 'vic', 'google', {
      email: user.email,
      refreshToken: (
        await fetch(`${process.env.GOOGLE_EMULATOR_URL}/_emulator/users`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: user.email }),
        }).then((r) => r.json() as Promise<{ refreshToken: string }>)
      ).refreshToken,
    });
    await world.linkConnected(second.id);
    for (const id of ['d1', 'd2']) await world.waitSynced(id, 1);
    expect((await testDb()('calendar_links').where({ id: second.id }).first()).calendar_id).toBe(row.calendar_id);
    expect((await googleEmulator.calendars(user.email)).filter((c) => !c.primary)).toHaveLength(1);

    // uma's link goes: her events leave the calendar, but vic's link still writes there, so it stays.
    await world.call('DELETE', `/v1/links/${link.id}`);
    await (await temporalClient()).workflow.getHandle(`link:${world.tenantId}:${link.id}`).result();
    expect((await googleEmulator.calendars(user.email)).filter((c) => !c.primary)).toHaveLength(1);
    expect(await googleEmulator.liveEvents(row.calendar_id)).toEqual([]);
    // The last link goes with remove: calsync's calendar is deleted as a whole; the primary calendar stays.
    await world.call('DELETE', `/v1/links/${second.id}`);
    await waitUntil(
      'calendar deleted',
      async () => (await googleEmulator.calendars(user.email)).every((c) => c.primary),
      30000,
      200,
    );
    const status = await waitUntil(
      'targets removed',
      async () => {
        const s = await world.status('d1');
        return s.sync.targets.length > 0 && s.sync.targets.every((t: any) => t.state === 'removed') ? s : undefined;
      },
      30000,
      300,
    );
    expect(status.sync.state).toBe('synced');
  });

  test("one tenant can never take or delete another tenant's calendar by naming its business the same", async () => {
    for (const provider of ['google', 'microsoft'] as const) {
      const emulator = provider === 'google' ? googleEmulator : microsoftEmulator;
      const business = `Salon ${randomUUID().slice(0, 6)}`;
      const a = await productDefaultTenant(business);
      await seed(a, 'ann');
      const user = await emulator.createUser('shared');
      const linkA = await attach(a, 'ann', provider, user);
      await a.linkConnected(linkA.id);
      const calendarA = (await testDb()('calendar_links').where({ id: linkA.id }).first()).calendar_id;
      const eventsOfA = async () =>
        provider === 'google'
          ? (await googleEmulator.liveEvents(calendarA)).length
          : (await microsoftEmulator.events(user.email, calendarA)).length;
      await waitUntil(`${provider}: A's backfill`, async () => (await eventsOfA()) === 2, 30000, 200);

      // Tenant B: the same business name, the same account (which consented to both).
      const b = await productDefaultTenant(business);
      await b.call('PUT', '/v1/staff/bob', { name: 'bob' });
      const grant =
        provider === 'google'
          ? await fetch(`${process.env.GOOGLE_EMULATOR_URL}/_emulator/users`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ email: user.email }),
            }).then((r) => r.json() as Promise<{ refreshToken: string }>)
          : await freshGrant(user.email);
      const linkB = await attach(b, 'bob', provider, { email: user.email, refreshToken: grant.refreshToken });
      await b.linkConnected(linkB.id);
      const rowB = await testDb()('calendar_links').where({ id: linkB.id }).first();
      // Google makes B a calendar of its own; Graph refuses a second of that name, so B writes to it without owning it.
      if (provider === 'google') expect(rowB.calendar_id).not.toBe(calendarA);
      else expect([rowB.calendar_id, rowB.calendar_owned]).toEqual([calendarA, false]);

      await b.call('DELETE', `/v1/links/${linkB.id}`);
      await (await temporalClient()).workflow.getHandle(`link:${b.tenantId}:${linkB.id}`).result();
      const calendars =
        provider === 'google'
          ? (await googleEmulator.calendars(user.email)).map((c) => c.id)
          : (await microsoftEmulator.calendars(user.email)).map((c) => c.id);
      expect([provider, calendars.includes(calendarA)]).toEqual([provider, true]);
      expect([provider, await eventsOfA()]).toEqual([provider, 2]);
    }
  });

  test('microsoft: a dedicated calendar, made once even when its creation answer is lost', async () => {
    const world = await productDefaultTenant('Estudio Luna');
    await seed(world, 'wen');
    const user = await microsoftEmulator.createUser('wen');
    await microsoftEmulator.setFaults({ user: user.email, applyThenFail: 'firstInsert' });
    const link = await attach(world, 'wen', 'microsoft', user);
    await world.linkConnected(link.id);
    const row = await testDb()('calendar_links').where({ id: link.id }).first();
    expect(row).toMatchObject({ status: 'active', calendar_owned: true });
    const secondary = (await microsoftEmulator.calendars(user.email)).filter((c) => !c.isDefaultCalendar);
    expect(secondary.map((c) => [c.id, c.name])).toEqual([[row.calendar_id, 'Estudio Luna']]);
    await waitUntil(
      'backfill',
      async () => (await microsoftEmulator.events(user.email, row.calendar_id)).length === 2,
      30000,
      200,
    );
    expect(await microsoftEmulator.events(user.email)).toEqual([]);
    await microsoftEmulator.clearFaults(user.email);
  });

  test("microsoft: a calendar of the user's own with the business's name is written to, never taken for calsync's, never deleted", async () => {
    const world = await productDefaultTenant('Taller Norte');
    await seed(world, 'yan');
    const user = await microsoftEmulator.createUser('yan');
    const own = await microsoftEmulator.createCalendar(user.email, 'Taller Norte');
    const link = await attach(world, 'yan', 'microsoft', user);
    await world.linkConnected(link.id);
    const row = await testDb()('calendar_links').where({ id: link.id }).first();
    // Graph refuses a second calendar of that name; calsync writes to the user's, but does not own it.
    expect(row).toMatchObject({ status: 'active', calendar_id: own.id, calendar_owned: false });
    await waitUntil(
      'backfill',
      async () => (await microsoftEmulator.events(user.email, own.id)).length === 2,
      30000,
      200,
    );

    await world.call('DELETE', `/v1/links/${link.id}`);
    await (await temporalClient()).workflow.getHandle(`link:${world.tenantId}:${link.id}`).result();
    // calsync's events leave; the calendar stays.
    expect((await microsoftEmulator.calendars(user.email)).map((c) => c.name).sort()).toEqual([
      'Calendar',
      'Taller Norte',
    ]);
    expect(await microsoftEmulator.events(user.email, own.id)).toEqual([]);

    // Another business on the same account: its calendar is made, marked, and found again by the marker.
    const other = await productDefaultTenant('Taller Sur');
    await seed(other, 'yan');
    const first = await attach(other, 'yan', 'microsoft', await freshGrant(user.email));
    await other.linkConnected(first.id);
    const made = await testDb()('calendar_links').where({ id: first.id }).first();
    expect(made).toMatchObject({ calendar_owned: true });
    await other.call('PUT', '/v1/staff/zoe', { name: 'zoe' });
    const second = await attach(other, 'zoe', 'microsoft', await freshGrant(user.email));
    await other.linkConnected(second.id);
    expect(await testDb()('calendar_links').where({ id: second.id }).first()).toMatchObject({
      calendar_id: made.calendar_id,
      calendar_owned: true,
    });
    expect(
      (await microsoftEmulator.calendars(user.email)).filter((c) => c.name === 'Taller Sur').map((c) => c.id),
    ).toEqual([made.calendar_id]);
  });

  test('calendarMode "primary": the primary calendar, active at once, nothing made', async () => {
    const world = await TenantWorld.create(stack.apiUrl, { calendarMode: 'primary' });
    expect((await world.call('GET', '/v1/settings')).body.calendarMode).toBe('primary');
    expect((await world.call('PUT', '/v1/settings', { calendarMode: 'shared' })).status).toBe(400);
    await seed(world, 'xia');
    const user = await googleEmulator.createUser('xia');
    const link = await attach(world, 'xia', 'google', user);
    expect(link).toMatchObject({ status: 'active', calendarId: user.email });
    await world.linkConnected(link.id);
    await waitUntil('backfill', async () => (await googleEmulator.liveEvents(user.email)).length === 2, 30000, 200);
    expect(await googleEmulator.calendars(user.email)).toHaveLength(1);
  });
});
