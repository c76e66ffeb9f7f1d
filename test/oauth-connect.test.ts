import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { OAuthStateSigner } from '../api/oauthState';
import { SecretBox } from '../lib/secretBox';
import { googleEmulator, microsoftEmulator } from './helpers/emulator';
import { consent } from './helpers/oauth';
import { useAppStack } from './helpers/stack';
import { TenantWorld, testDb } from './helpers/world';

type Provider = 'google' | 'microsoft';

async function get(url: string): Promise<{ status: number; text: string; location: string | null }> {
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, text: await res.text(), location: res.headers.get('location') };
}

const emulatorUrl = (provider: Provider) =>
  provider === 'google' ? process.env.GOOGLE_EMULATOR_URL! : process.env.MICROSOFT_EMULATOR_URL!;
const tokenUrl = (provider: Provider) =>
  provider === 'google' ? `${emulatorUrl('google')}/token` : `${emulatorUrl('microsoft')}/common/oauth2/v2.0/token`;
const newEmail = (provider: Provider, who: string) =>
  `${who}-${randomUUID().slice(0, 8)}@${provider === 'google' ? 'example.test' : 'contoso.test'}`;

/** The emulated accounts' domains: these tests connect accounts other than the staff member's e-mail. */
const EMULATED_DOMAINS = { consentAccounts: { domains: ['example.test', 'contoso.test'] } };

describe('connecting a calendar by OAuth consent', () => {
  const stack = useAppStack();

  async function staffMember(world: TenantWorld, id: string) {
    const res = await world.call('PUT', `/v1/staff/${id}`, { name: `Staff ${id}` });
    expect(res.status).toBe(200);
  }

  async function start(
    world: TenantWorld,
    staffId: string,
    provider: Provider,
    extra: Record<string, unknown> = {},
  ): Promise<string> {
    const res = await world.call('POST', `/v1/staff/${staffId}/links`, { provider, ...extra });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body)).toEqual(['authorizeUrl']);
    return res.body.authorizeUrl;
  }

  const links = async (world: TenantWorld, staffId: string) => {
    const res = await world.call('GET', `/v1/staff/${staffId}/links`);
    expect(res.status).toBe(200);
    return res.body.links as any[];
  };

  for (const provider of ['google', 'microsoft'] as const) {
    test(`${provider}: authorize → Allow → callback stores an active link that syncs, once`, async () => {
      const world = await TenantWorld.create(stack.apiUrl, EMULATED_DOMAINS);
      await staffMember(world, 'dana');
      const authorizeUrl = await start(world, 'dana', provider);

      const url = new URL(authorizeUrl);
      const expectedAuthorize =
        provider === 'google'
          ? `${emulatorUrl('google')}/o/oauth2/v2/auth`
          : `${emulatorUrl('microsoft')}/common/oauth2/v2.0/authorize`;
      expect(`${url.origin}${url.pathname}`).toBe(expectedAuthorize);
      const q = Object.fromEntries(url.searchParams);
      expect(q).toMatchObject({
        client_id: 'calsync-dev',
        redirect_uri: `${stack.apiUrl}/oauth/callback/${provider}`,
        response_type: 'code',
        code_challenge_method: 'S256',
      });
      expect(q.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(q.code_verifier).toBeUndefined();
      expect(q.state).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      if (provider === 'google') {
        expect(q).toMatchObject({ access_type: 'offline', prompt: 'consent' });
        expect(q.scope!.split(' ')).toContain('https://www.googleapis.com/auth/calendar');
      } else {
        expect(q.scope!.split(' ')).toEqual(expect.arrayContaining(['offline_access', 'Calendars.ReadWrite']));
      }
      // The verifier is kept server-side, sealed, and matches the challenge.
      const stateRow = await testDb()('oauth_states').where({ tenant_id: world.tenantId, staff_id: 'dana' }).first();
      expect(stateRow).toMatchObject({ provider, used_at: null });
      const verifier = new SecretBox(process.env.CALSYNC_TOKEN_KEYS!).open(stateRow.code_verifier_sealed);
      expect(stateRow.code_verifier_sealed).not.toContain(verifier);
      expect(createHash('sha256').update(verifier).digest('base64url')).toBe(q.code_challenge);
      expect(authorizeUrl).not.toContain(verifier);

      const email = newEmail(provider, 'dana');
      const callback = await consent(authorizeUrl, email, 'allow');
      expect(callback.startsWith(`${stack.apiUrl}/oauth/callback/${provider}?`)).toBe(true);
      expect(new URL(callback).searchParams.get('state')).toBe(q.state);
      expect(new URL(callback).searchParams.get('code')).toBeTruthy();

      const landed = await get(callback);
      expect(landed.status).toBe(200);
      expect(landed.text).toContain(`Your ${provider === 'google' ? 'Google' : 'Microsoft'} calendar is connected`);

      const [link, ...more] = await links(world, 'dana');
      expect(more).toEqual([]);
      expect(link).toMatchObject({
        provider,
        accountEmail: email,
        status: 'active',
        calendarId: provider === 'google' ? email : 'calendar',
      });

      // The stored refresh token is the emulator's, live, and shown nowhere.
      const row = await testDb()('calendar_links').where({ id: link.id }).first();
      const refreshToken = new SecretBox(process.env.CALSYNC_TOKEN_KEYS!).open(row.refresh_token_sealed);
      expect(refreshToken.length).toBeGreaterThan(20);
      const refreshed = await fetch(tokenUrl(provider), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          client_id: 'calsync-dev',
          client_secret: 'calsync-dev-secret',
        }),
      });
      expect(refreshed.status).toBe(200);
      expect(row.refresh_token_sealed).not.toContain(refreshToken);
      expect(landed.text).not.toContain(refreshToken);
      expect(JSON.stringify(await world.call('GET', `/v1/staff/dana/links`))).not.toContain(refreshToken);
      const apiLog = path.join(process.env.CALSYNC_TEST_TMP!, `api-${stack.taskQueue}.log`);
      if (existsSync(apiLog)) expect(readFileSync(apiLog, 'utf8')).not.toContain(refreshToken);

      // Reused state: refused, nothing more stored.
      const again = await get(callback);
      expect(again.status).toBe(400);
      expect(again.text).toContain('already been used');
      expect(await links(world, 'dana')).toHaveLength(1);

      // The link works: an appointment lands in the consented account's calendar.
      expect((await world.put('cut-1', { revision: 1, staffIds: ['dana'] })).status).toBe(202);
      await world.waitSynced('cut-1', 1);
      const events =
        provider === 'google' ? await googleEmulator.liveEvents(email) : await microsoftEmulator.events(email);
      expect(events.map((e: any) => e.summary ?? e.subject)).toEqual(['Haircut – Ana García']);
    });
  }

  test('a tampered or expired state is refused and stores nothing; the genuine one still works', async () => {
    const world = await TenantWorld.create(stack.apiUrl, EMULATED_DOMAINS);
    await staffMember(world, 'eli');
    const email = newEmail('google', 'eli');
    const callback = await consent(await start(world, 'eli', 'google'), email, 'allow');
    const genuine = new URL(callback);
    const state = genuine.searchParams.get('state')!;
    const [payload, mac] = state.split('.') as [string, string];

    const forged = (value: string) => {
      const u = new URL(callback);
      u.searchParams.set('state', value);
      return u.toString();
    };
    const flipped = `${mac.slice(0, -2)}${mac.slice(-2, -1) === 'A' ? 'B' : 'A'}${mac.slice(-1)}`;
    const otherPayload = Buffer.from(JSON.stringify({ i: randomUUID(), e: Date.now() + 600000 })).toString('base64url');
    for (const bad of [`${payload}.${flipped}`, `${otherPayload}.${mac}`, 'garbage', '']) {
      const answer = await get(forged(bad));
      expect(answer.status).toBe(400);
      expect(answer.text).toContain('not valid');
    }
    // Correctly signed but past its expiry.
    const stateId = JSON.parse(Buffer.from(payload, 'base64url').toString()).i;
    const expired = new OAuthStateSigner(process.env.CALSYNC_TOKEN_KEYS!).sign(stateId, Date.now() - 1000);
    const late = await get(forged(expired));
    expect(late.status).toBe(400);
    expect(late.text).toContain('expired');
    // A state for Google presented to the Microsoft callback.
    const crossed = await get(callback.replace('/oauth/callback/google', '/oauth/callback/microsoft'));
    expect(crossed.status).toBe(400);
    expect(await links(world, 'eli')).toEqual([]);

    const ok = await get(callback);
    expect(ok.status).toBe(200);
    expect((await links(world, 'eli')).map((l) => l.accountEmail)).toEqual([email]);
  });

  test('Deny: a 400 page and no link', async () => {
    const world = await TenantWorld.create(stack.apiUrl, EMULATED_DOMAINS);
    await staffMember(world, 'fay');
    for (const provider of ['google', 'microsoft'] as const) {
      const callback = await consent(await start(world, 'fay', provider), newEmail(provider, 'fay'), 'deny');
      expect(new URL(callback).searchParams.get('error')).toBe('access_denied');
      expect(new URL(callback).searchParams.get('code')).toBeNull();
      const answer = await get(callback);
      expect(answer.status).toBe(400);
      expect(answer.text).toContain('not allowed');
    }
    expect(await links(world, 'fay')).toEqual([]);
  });

  test('returnUrl: a same-origin path is where the browser goes; anything else is refused up front', async () => {
    const world = await TenantWorld.create(stack.apiUrl, EMULATED_DOMAINS);
    await staffMember(world, 'gus');
    for (const bad of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'relative']) {
      const res = await world.call('POST', '/v1/staff/gus/links', { provider: 'google', returnUrl: bad });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/^returnUrl: /);
    }
    expect((await world.call('POST', '/v1/staff/nobody/links', { provider: 'google' })).status).toBe(404);
    expect((await world.call('POST', '/v1/staff/gus/links', { provider: 'yahoo' })).status).toBe(400);
    expect(
      (
        await fetch(`${stack.apiUrl}/v1/staff/gus/links`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"provider":"google"}',
        })
      ).status,
    ).toBe(401);

    const callback = await consent(
      await start(world, 'gus', 'microsoft', { returnUrl: '/settings/calendars?done=1' }),
      newEmail('microsoft', 'gus'),
      'allow',
    );
    const answer = await get(callback);
    expect(answer.status).toBe(302);
    expect(answer.location).toBe('/settings/calendars?done=1');
    expect(await links(world, 'gus')).toHaveLength(1);
  });

  for (const provider of ['google', 'microsoft'] as const) {
    test(`${provider} emulator: PKCE is checked, codes are single-use and bound to the redirect URI`, async () => {
      const verifier = `v-${randomUUID()}-${randomUUID()}`;
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const redirectUri = 'http://127.0.0.1:9/cb';
      const authorize =
        provider === 'google'
          ? `${emulatorUrl('google')}/o/oauth2/v2/auth`
          : `${emulatorUrl('microsoft')}/common/oauth2/v2.0/authorize`;
      const email = newEmail(provider, 'pkce');
      const u = new URL(authorize);
      for (const [k, v] of Object.entries({
        client_id: 'calsync-dev',
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: 'x',
        state: 's1',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        login_hint: email,
      }))
        u.searchParams.set(k, v);
      const location = await consent(u.toString(), email, 'allow');
      expect(location.startsWith(`${redirectUri}?`)).toBe(true);
      const code = new URL(location).searchParams.get('code')!;
      expect(new URL(location).searchParams.get('state')).toBe('s1');

      const redeem = async (fields: Record<string, string>) => {
        const res = await fetch(tokenUrl(provider), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code,
            redirect_uri: redirectUri,
            client_id: 'calsync-dev',
            client_secret: 'calsync-dev-secret',
            ...fields,
          }),
        });
        return { status: res.status, body: (await res.json()) as any };
      };
      const wrong = await redeem({ code_verifier: `${verifier}x` });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error).toBe('invalid_grant');
      expect(wrong.body.refresh_token).toBeUndefined();
      expect((await redeem({})).status).toBe(400);
      expect((await redeem({ code_verifier: verifier, redirect_uri: 'http://127.0.0.1:9/other' })).status).toBe(400);

      const right = await redeem({ code_verifier: verifier });
      expect(right.status).toBe(200);
      expect(right.body).toMatchObject({
        token_type: 'Bearer',
        access_token: expect.any(String),
        refresh_token: expect.any(String),
      });
      // The user and its calendar now exist: the emulator's own inspector knows them.
      const calendars = await fetch(`${emulatorUrl(provider)}/_emulator/users/${encodeURIComponent(email)}/calendars`);
      expect(calendars.status).toBe(200);
      // Who the token belongs to.
      const me =
        provider === 'google'
          ? await fetch(`${emulatorUrl('google')}/oauth2/v3/userinfo`, {
              headers: { authorization: `Bearer ${right.body.access_token}` },
            })
          : await fetch(`${emulatorUrl('microsoft')}/v1.0/me`, {
              headers: { authorization: `Bearer ${right.body.access_token}` },
            });
      expect(me.status).toBe(200);
      const who = (await me.json()) as any;
      expect(provider === 'google' ? who.email : who.mail).toBe(email);

      const reused = await redeem({ code_verifier: verifier });
      expect(reused.status).toBe(400);
      expect(reused.body.error).toBe('invalid_grant');
    });
  }

  test("by default only the staff member's own account can be connected; a mismatch stores nothing", async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const own = newEmail('google', 'ria');
    await world.call('PUT', '/v1/staff/ria', { name: 'Ria', email: own.toUpperCase() });
    await world.call('PUT', '/v1/staff/noe', { name: 'Noe' });

    const other = await get(await consent(await start(world, 'ria', 'google'), newEmail('google', 'mallory'), 'allow'));
    expect(other.status).toBe(400);
    expect(other.text).toContain('is not this staff member');
    const noEmail = await get(await consent(await start(world, 'noe', 'google'), newEmail('google', 'noe'), 'allow'));
    expect(noEmail.status).toBe(400);
    expect(noEmail.text).toContain('no e-mail address');
    expect(await testDb()('calendar_links').where({ tenant_id: world.tenantId })).toEqual([]);

    const mine = await get(await consent(await start(world, 'ria', 'google'), own, 'allow'));
    expect(mine.status).toBe(200);
    expect((await links(world, 'ria')).map((l) => l.accountEmail)).toEqual([own]);
  });
});
