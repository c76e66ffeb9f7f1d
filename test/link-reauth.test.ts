import { randomUUID } from 'node:crypto';
import { waitUntil } from './helpers/api';
import { googleEmulator, microsoftEmulator } from './helpers/emulator';
import { connectByConsent } from './helpers/oauth';
import { useAppStack } from './helpers/stack';
import { TenantWorld, testDb } from './helpers/world';

/**
 * A revoked grant: the link notices it on its own (it refreshes ahead of expiry; here the margin
 * makes that every few seconds), holds the writes meant for it, and resumes them after a reconnect.
 */
describe('a link that needs re-authorisation', () => {
  // Emulated access tokens live an hour: refreshing 3597 s ahead means every ~3 s.
  const stack = useAppStack({ LINK_TOKEN_REFRESH_AHEAD_MS: '3597000' });

  for (const provider of ['google', 'microsoft'] as const) {
    test(`${provider}: revoked → needs_reauth without a write; syncs held, not failed; reconnecting the same account applies them`, async () => {
      const world = await TenantWorld.create(stack.apiUrl, {
        calendarMode: 'dedicated',
        consentAccounts: { domains: ['example.test', 'contoso.test'] },
      });
      await world.call('PUT', '/v1/staff/ola', { name: 'Ola' });
      const email = `ola-${randomUUID().slice(0, 8)}@${provider === 'google' ? 'example.test' : 'contoso.test'}`;
      await connectByConsent(world, 'ola', provider, email);
      const [link] = (await world.call('GET', '/v1/staff/ola/links')).body.links;
      await world.linkConnected(link.id);
      const calendarId = (await testDb()('calendar_links').where({ id: link.id }).first()).calendar_id;
      const titles = async () =>
        provider === 'google'
          ? (await googleEmulator.liveEvents(calendarId)).map((e) => e.summary).sort()
          : (await microsoftEmulator.events(email, calendarId)).map((e) => e.subject).sort();

      await world.put('h1', { revision: 1, staffIds: ['ola'], title: 'First' });
      await world.waitSynced('h1', 1);
      expect(await titles()).toEqual(['First – Ana García']);

      // The user revokes calsync's access at the provider; the link's own token upkeep notices.
      await (provider === 'google' ? googleEmulator : microsoftEmulator).revokeUser(email);
      const reauth = await waitUntil(
        'needs_reauth',
        async () => {
          const [l] = (await world.call('GET', '/v1/staff/ola/links')).body.links;
          return l.status === 'needs_reauth' ? l : undefined;
        },
        30000,
        300,
      );
      expect(reauth.statusReason).toBe('invalid_grant');
      expect(
        await testDb()('sync_log').where({ tenant_id: world.tenantId, appointment_id: 'h1' }).count('* as n').first(),
      ).toEqual({ n: '1' });

      // Changes meanwhile are held: visible, not failed, not retried, nothing written.
      await world.put('h1', { revision: 2, staffIds: ['ola'], title: 'Moved' });
      await world.put('h2', { revision: 1, staffIds: ['ola'], title: 'Second' }, 4);
      for (const id of ['h1', 'h2']) {
        const held = await waitUntil(
          `${id} held`,
          async () => {
            const s = await world.status(id);
            return s.sync.state === 'held' ? s : undefined;
          },
          30000,
          300,
        );
        expect(held.sync.targets).toEqual([
          expect.objectContaining({
            linkId: link.id,
            state: 'held',
            lastError: expect.objectContaining({ code: 'link_needs_reauth' }),
          }),
        ]);
        expect(held.sync.targets[0].lastError.message).toContain('invalid_grant');
        const log = (await world.call('GET', `/v1/appointments/${id}/log`)).body;
        expect(log.entries.at(-1)).toMatchObject({ result: 'held', errorCode: 'link_needs_reauth' });
      }
      const attempts = async () =>
        Number(
          (await testDb()('sync_log').where({ tenant_id: world.tenantId, result: 'held' }).count('* as n').first())!.n,
        );
      const heldAttempts = await attempts();
      await new Promise((r) => setTimeout(r, 4000));
      expect(await attempts()).toBe(heldAttempts);
      expect(await titles()).toEqual(['First – Ana García']);
      expect((await world.call('GET', `/v1/sync-failures?staff=ola`)).body.failures).toEqual([]);

      // Reconnecting the same account: the same link comes back and the held changes land.
      await connectByConsent(world, 'ola', provider, email);
      const links = (await world.call('GET', '/v1/staff/ola/links')).body.links;
      expect(links).toEqual([
        expect.objectContaining({ id: link.id, status: 'active', statusReason: null, calendarId }),
      ]);
      await world.waitSynced('h1', 2, 60000);
      await world.waitSynced('h2', 1, 60000);
      expect(await titles()).toEqual(['Moved – Ana García', 'Second – Ana García']);
      expect((await world.status('h1')).sync.targets).toEqual([
        expect.objectContaining({ linkId: link.id, state: 'synced', appliedRevision: 2 }),
      ]);
    });
  }
});
