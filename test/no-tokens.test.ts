import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { loadConfig } from '../lib/config';
import { PayloadEncryptionCodec } from '../lib/payloadCodec';
import { SecretBox } from '../lib/secretBox';
import { waitUntil } from './helpers/api';
import { googleEmulator, microsoftEmulator } from './helpers/emulator';
import { caldav, caldavServerUrl } from './helpers/caldav';
import { connectByConsent } from './helpers/oauth';
import { useAppStack } from './helpers/stack';
import { TenantWorld, temporalClient, testDb } from './helpers/world';

/** Every payload ({ metadata, data }) anywhere in a fetched history. */
function payloadsIn(node: unknown, found: Payload[] = []): Payload[] {
  if (!node || typeof node !== 'object') return found;
  if (node instanceof Uint8Array) return found;
  const o = node as Record<string, unknown>;
  if (o.data instanceof Uint8Array && o.metadata && typeof o.metadata === 'object') found.push(o as Payload);
  for (const value of Object.values(o)) payloadsIn(value, found);
  return found;
}

/**
 * Refresh and access tokens never leave the sealed columns: not in Temporal histories (decoded
 * with the project's codec), not in API answers or pages, not in the API's or worker's logs.
 */
describe('no token anywhere', () => {
  // Refreshing every few seconds makes many access tokens (and Microsoft refresh tokens) to look for.
  const stack = useAppStack({
    LINK_TOKEN_REFRESH_AHEAD_MS: '3597000',
    LOG_LEVEL: 'debug',
    OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
  });

  test('histories, API responses and process logs carry no refresh or access token, nor a CalDAV password', async () => {
    const world = await TenantWorld.create(stack.apiUrl, {
      calendarMode: 'dedicated',
      consentAccounts: { domains: ['example.test', 'contoso.test'] },
    });
    const answers: string[] = [];
    const call = async (method: string, p: string, body?: unknown) => {
      const res = await world.call(method, p, body);
      answers.push(JSON.stringify(res.body));
      return res;
    };
    const secrets = new SecretBox(process.env.CALSYNC_TOKEN_KEYS!);
    const tokens = new Set<string>();
    /** Every token calsync holds right now (Microsoft rotates refresh tokens, access tokens come and go). */
    const collectTokens = async () => {
      for (const row of await testDb()('calendar_links').where({ tenant_id: world.tenantId })) {
        if (row.refresh_token_sealed) tokens.add(secrets.open(row.refresh_token_sealed));
        if (row.access_token_sealed) tokens.add(secrets.open(row.access_token_sealed));
      }
    };

    await call('PUT', '/v1/staff/pia', { name: 'Pia' });
    const googleEmail = `pia-${randomUUID().slice(0, 8)}@example.test`;
    const microsoftEmail = `pia-${randomUUID().slice(0, 8)}@contoso.test`;
    await connectByConsent(world, 'pia', 'google', googleEmail);
    await connectByConsent(world, 'pia', 'microsoft', microsoftEmail);
    // A CalDAV account (Radicale) by username and app-specific password: the password is a token too,
    // and so is every serialisation of it (the sealed secret is JSON holding it).
    const caldavAccount = caldav.createAccount('pia', `pia-${randomUUID().slice(0, 8)}@example.test`);
    tokens.add(caldavAccount.password);
    const caldavLink = await call('POST', '/v1/staff/pia/links/caldav', {
      serverUrl: caldavServerUrl(),
      username: caldavAccount.username,
      password: caldavAccount.password,
    });
    expect(caldavLink.status).toBe(201);
    // A refused attempt is logged: without the password it was given.
    expect(
      (
        await call('POST', '/v1/staff/pia/links/caldav', {
          ...caldavAccount,
          serverUrl: caldavServerUrl(),
          password: `${caldavAccount.password}-x`,
        })
      ).status,
    ).toBe(400);
    const links = (await call('GET', '/v1/staff/pia/links')).body.links as Array<{ id: string }>;
    for (const l of links) await world.linkConnected(l.id);
    await collectTokens();

    await call('PUT', '/v1/appointments/tok-1', {
      ...(await import('./helpers/api')).appointmentBody({ revision: 1, staffIds: ['pia'], title: 'Tokenless' }),
    });
    await world.waitSynced('tok-1', 1);
    await collectTokens();
    // A few refresh rounds of the links' token upkeep, and a forced refresh on a write.
    await googleEmulator.expireAccessTokens(googleEmail);
    await microsoftEmulator.expireAccessTokens(microsoftEmail);
    await call('PUT', '/v1/appointments/tok-1', {
      ...(await import('./helpers/api')).appointmentBody({ revision: 2, staffIds: ['pia'], title: 'Tokenless again' }),
    });
    await world.waitSynced('tok-1', 2);
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 3500));
      await collectTokens();
    }
    await call('GET', '/v1/appointments/tok-1');
    await call('GET', '/v1/appointments/tok-1/log');
    await call('GET', '/v1/settings');
    await call('GET', '/v1/sync-failures');
    const session = await call('POST', '/v1/connect-sessions', { staffId: 'pia' });
    const opened = await fetch(session.body.url, { redirect: 'manual' });
    const page = await fetch(`${stack.apiUrl}/connect?staff=pia`, {
      headers: { cookie: opened.headers.get('set-cookie')!.split(';')[0]! },
    });
    answers.push(await page.text());
    for (const l of links) await call('DELETE', `/v1/links/${l.id}`);
    const client = await temporalClient();
    for (const l of links) await client.workflow.getHandle(`link:${world.tenantId}:${l.id}`).result();
    answers.push(JSON.stringify((await call('GET', '/v1/staff/pia/links')).body));

    // Sanity: tokens were collected (two accounts, several refreshes) and rotated.
    expect(tokens.size).toBeGreaterThanOrEqual(8);
    const sawToken = (text: string) =>
      [...tokens].find((t) => text.includes(t) || text.includes(encodeURIComponent(t)));

    // Temporal histories of the link and appointment workflows, every payload decoded.
    // Every payload in the history, search attributes (plain by design) included.
    const codec = new PayloadEncryptionCodec(loadConfig().payloadKeys, true);
    const workflowIds = [...links.map((l) => `link:${world.tenantId}:${l.id}`), `appt:${world.tenantId}:tok-1`];
    let decoded = '';
    for (const id of workflowIds) {
      const history = await client.workflow.getHandle(id).fetchHistory();
      const payloads = payloadsIn(history);
      expect(payloads.length).toBeGreaterThan(0);
      for (const p of await codec.decode(payloads))
        decoded += `${Buffer.from(p.data ?? new Uint8Array()).toString('utf8')}\n`;
      decoded += `${JSON.stringify(history)}\n`;
    }
    // The decoding works: the appointment's content is there in clear.
    expect(decoded).toContain('Tokenless again');
    expect(sawToken(decoded)).toBeUndefined();

    expect(answers.join('\n')).toContain(googleEmail);
    expect(sawToken(answers.join('\n'))).toBeUndefined();

    const logs = ['api', 'worker'].map((kind) =>
      path.join(process.env.CALSYNC_TEST_TMP!, `${kind}-${stack.taskQueue}.log`),
    );
    await waitUntil(
      'logs written',
      async () => logs.every((f) => existsSync(f) && readFileSync(f, 'utf8').length > 0),
      10000,
      200,
    );
    const logText = logs.map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(logText).toContain('push applied');
    expect(sawToken(logText)).toBeUndefined();
  });
});
