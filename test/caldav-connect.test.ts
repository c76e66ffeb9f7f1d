import ICAL from 'ical.js';
import { caldav, caldavServerUrl, staffWithCalDav } from './helpers/caldav';
import { waitUntil } from './helpers/api';
import { useAppStack } from './helpers/stack';
import { TenantWorld, testDb } from './helpers/world';

/**
 * Connecting a CalDAV account by username and app-specific password, against Radicale: checked
 * before anything is stored; a password changed on the server holds the writes until a new one
 * is given; disconnecting removes the dedicated calendar.
 */
describe('connecting CalDAV accounts', () => {
  const stack = useAppStack({ OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' });
  const settings = { calendarMode: 'dedicated', consentAccounts: 'any' };

  const summaries = async (account: { username: string; password: string }, calendarUrl: string) =>
    [...(await caldav.resources(account, calendarUrl)).values()]
      .map((ics) =>
        String(new ICAL.Component(ICAL.parse(ics)).getFirstSubcomponent('vevent')!.getFirstPropertyValue('summary')),
      )
      .sort();

  test('a wrong password, an internal address or no server: 400 naming the field, nothing stored', async () => {
    const world = await TenantWorld.create(stack.apiUrl, settings);
    await world.call('PUT', '/v1/staff/ola', { name: 'Ola' });
    const account = caldav.createAccount('ola');
    const attempts: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ serverUrl: caldavServerUrl(), username: account.username, password: 'wrong' }, 'password', /did not accept/],
      [
        { serverUrl: 'https://169.254.169.254/', username: 'a', password: 'b' },
        'serverUrl',
        /private|loopback|link-local/,
      ],
      [{ serverUrl: 'http://calendar.example.test/', username: 'a', password: 'b' }, 'serverUrl', /https/],
      [{ preset: 'custom', username: 'a', password: 'b' }, 'serverUrl', /required/],
      [{ preset: 'nowhere', username: 'a', password: 'b' }, 'preset', /icloud/],
      [{ serverUrl: caldavServerUrl(), username: account.username }, 'password', /./],
    ];
    for (const [body, field, message] of attempts) {
      const res = await world.call('POST', '/v1/staff/ola/links/caldav', body);
      expect([res.status, res.body.details.issues[0].field]).toEqual([400, field]);
      expect(res.body.message).toMatch(message);
      expect(JSON.stringify(res.body)).not.toContain(account.password);
    }
    expect(await testDb()('calendar_links').where({ tenant_id: world.tenantId })).toEqual([]);
    // The right password: stored, and the answer carries no secret.
    const ok = await world.call('POST', '/v1/staff/ola/links/caldav', {
      serverUrl: caldavServerUrl(),
      username: account.username,
      password: account.password,
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ provider: 'caldav', accountEmail: account.username, status: 'connecting' });
    expect(JSON.stringify(ok.body)).not.toContain(account.password);
    const [row] = await testDb()('calendar_links').where({ tenant_id: world.tenantId });
    expect(row.refresh_token_sealed).not.toContain(account.password);
    // The link is polled (CalDAV has no push), and a team calendar on it cannot be given members.
    await world.linkConnected(ok.body.id);
    expect((await world.call('GET', `/v1/links/${ok.body.id}/import`)).body.updates).toBe('polled');
    const team = await world.call('PUT', '/v1/calendars/front-desk', {
      name: 'Front desk',
      linkId: ok.body.id,
      members: [{ staffId: 'ola', access: 'read' }],
    });
    expect([team.status, team.body.details.issues[0].field]).toEqual([400, 'members']);
    expect(team.body.message).toMatch(/cannot be shared/);
  });

  test('password changed on the server → needs_reauth, writes held → new password → held writes applied; disconnect removes the calendar', async () => {
    const world = await TenantWorld.create(stack.apiUrl, settings);
    let ola = await staffWithCalDav(world, 'ola');
    await world.put('h1', { revision: 1, staffIds: ['ola'], title: 'First' });
    await world.waitSynced('h1', 1);
    expect(await summaries(ola, ola.calendarId)).toEqual(['First – Ana García']);

    // The person revokes the app-specific password: the next write meets 401.
    ola = { ...ola, ...caldav.setPassword(ola, 'the-new-one') };
    await world.put('h1', { revision: 2, staffIds: ['ola'], title: 'Moved' });
    const reauth = await waitUntil('needs_reauth', async () => {
      const [l] = (await world.call('GET', '/v1/staff/ola/links')).body.links;
      return l.status === 'needs_reauth' ? l : undefined;
    });
    expect(reauth.statusReason).toBe('invalid_credentials');
    await world.put('h2', { revision: 1, staffIds: ['ola'], title: 'Second' });
    for (const id of ['h1', 'h2']) {
      const held = await waitUntil(`${id} held`, async () => {
        const s = await world.status(id);
        return s.sync.state === 'held' ? s : undefined;
      });
      expect(held.sync.targets[0].lastError.code).toBe('link_needs_reauth');
    }
    expect(await summaries(ola, ola.calendarId)).toEqual(['First – Ana García']);

    // A wrong new password changes nothing; the right one brings the same link back and applies what was held.
    const wrong = await world.call('POST', '/v1/staff/ola/links/caldav', {
      serverUrl: caldavServerUrl(),
      username: ola.username,
      password: 'still-wrong',
    });
    expect(wrong.status).toBe(400);
    const again = await world.call('POST', '/v1/staff/ola/links/caldav', {
      serverUrl: caldavServerUrl(),
      username: ola.username,
      password: ola.password,
    });
    expect([again.status, again.body.id]).toEqual([201, ola.linkId]);
    await world.waitSynced('h1', 2, 60000);
    await world.waitSynced('h2', 1, 60000);
    expect(await summaries(ola, ola.calendarId)).toEqual(['Moved – Ana García', 'Second – Ana García']);

    // Disconnect (the tenant removes events): the dedicated calendar is deleted on the server.
    expect(await caldav.exists(ola, ola.calendarId)).toBe(true);
    expect((await world.call('DELETE', `/v1/links/${ola.linkId}`)).status).toBe(202);
    await waitUntil('the calendar deleted', async () => !(await caldav.exists(ola, ola.calendarId)), 30000);
    const [gone] = (await world.call('GET', '/v1/staff/ola/links')).body.links;
    await waitUntil('disconnected', async () => {
      const [l] = (await world.call('GET', '/v1/staff/ola/links')).body.links;
      return l.status === 'disconnected';
    });
    expect(gone.id).toBe(ola.linkId);
  });
});
