import { googleEmulator } from './helpers/emulator';
import { appointmentBody, waitUntil } from './helpers/api';
import { useAppStack } from './helpers/stack';
import { TenantWorld, temporalClient, testDb } from './helpers/world';

/** A calendar link's life: backfill on connect, clean removal on disconnect, no doubles on reconnect. */
describe('calendar link lifecycle', () => {
  const stack = useAppStack();

  async function attach(world: TenantWorld, staffId: string, user: { email: string; refreshToken: string }) {
    const res = await world.call('POST', `/v1/staff/${staffId}/links/google`, {
      accountEmail: user.email,
      refreshToken: user.refreshToken,
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  async function seedAppointments(world: TenantWorld, staffId: string) {
    await world.call('PUT', `/v1/staff/${staffId}`, { name: staffId });
    for (const [id, dayOffset] of [
      ['f1', 2],
      ['f2', 3],
      ['f3', 4],
    ] as const) {
      expect((await world.put(id, { revision: 1, staffIds: [staffId], title: id }, dayOffset)).status).toBe(202);
    }
    const past = {
      ...appointmentBody({ revision: 1, staffIds: [staffId], title: 'past' }),
      start: new Date(Date.now() - 48 * 3600_000).toISOString(),
      end: new Date(Date.now() - 47 * 3600_000).toISOString(),
      timeZone: 'UTC',
    };
    expect((await world.call('PUT', '/v1/appointments/p1', past)).status).toBe(202);
    // All synced (to no calendar) before the link exists: only the backfill can bring them in.
    for (const id of ['f1', 'f2', 'f3', 'p1']) await world.waitSynced(id, 1);
  }

  const liveTitles = async (calendarId: string) =>
    (await googleEmulator.liveEvents(calendarId)).map((e) => e.summary).sort();
  const futureTitles = ['f1 – Ana García', 'f2 – Ana García', 'f3 – Ana García'];

  test('connecting backfills future appointments; disconnecting removes them, revokes and erases the token', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    await seedAppointments(world, 'pat');
    const user = await googleEmulator.createUser('pat');
    const linkId = await attach(world, 'pat', user);

    await waitUntil(
      'backfill',
      async () => JSON.stringify(await liveTitles(user.email)) === JSON.stringify(futureTitles),
      30000,
      200,
    );

    const gone = await world.call('DELETE', `/v1/links/${linkId}`);
    expect(gone.body).toEqual({ linkId, status: 'disconnecting' });
    const client = await temporalClient();
    await client.workflow.getHandle(`link:${world.tenantId}:${linkId}`).result();
    expect(await liveTitles(user.email)).toEqual([]);
    const row = await testDb()('calendar_links').where({ id: linkId }).first();
    expect(row).toMatchObject({ status: 'disconnected', refresh_token_sealed: null, access_token_sealed: null });
    // The grant is revoked at the provider too.
    const refresh = await fetch(`${process.env.GOOGLE_EMULATOR_URL}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: user.refreshToken }),
    });
    expect(refresh.status).toBe(400);

    // Appointment workflows no longer target the link.
    await world.put('f4', { revision: 1, staffIds: ['pat'], title: 'f4' }, 5);
    const after = await world.waitSynced('f4', 1);
    expect(after.sync.targets).toEqual([]);
    expect(await liveTitles(user.email)).toEqual([]);
    expect((await world.call('GET', '/v1/staff/pat/links')).body.links[0].status).toBe('disconnected');
  });

  test('with onDisconnect "keep" the events stay, and reconnecting the same account does not double them', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    await world.call('PUT', '/v1/settings', { onDisconnect: 'keep' });
    await seedAppointments(world, 'quin');
    const user = await googleEmulator.createUser('quin');
    const first = await attach(world, 'quin', user);
    await waitUntil('backfill', async () => (await liveTitles(user.email)).length === 3, 30000, 200);

    await world.call('DELETE', `/v1/links/${first}`);
    const client = await temporalClient();
    await client.workflow.getHandle(`link:${world.tenantId}:${first}`).result();
    expect(await liveTitles(user.email)).toEqual(futureTitles);

    // Reconnect: a new link to the same calendar finds the same events instead of adding copies.
    const again = await fetch(`${process.env.GOOGLE_EMULATOR_URL}/_emulator/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: user.email }),
    }).then((r) => r.json() as Promise<{ refreshToken: string }>);
    await attach(world, 'quin', { email: user.email, refreshToken: again.refreshToken });
    await world.put('f1', { revision: 2, staffIds: ['quin'], title: 'f1 moved' }, 2);
    await world.waitSynced('f1', 2);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await liveTitles(user.email)).toEqual(['f1 moved – Ana García', 'f2 – Ana García', 'f3 – Ana García']);
    expect(await googleEmulator.events(user.email)).toHaveLength(3);
  });

  test('disconnecting an unknown or foreign link is a 404', async () => {
    const a = await TenantWorld.create(stack.apiUrl);
    const b = await TenantWorld.create(stack.apiUrl);
    await a.call('PUT', '/v1/staff/rae', { name: 'rae' });
    const user = await googleEmulator.createUser('rae');
    const linkId = await attach(a, 'rae', user);
    expect((await b.call('DELETE', `/v1/links/${linkId}`)).status).toBe(404);
    expect((await a.call('DELETE', '/v1/links/nope')).status).toBe(404);
  });
});
