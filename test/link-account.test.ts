import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import knex from 'knex';
import { activityFailure } from '../activities/activityFailure';
import type { LinkRow } from '../activities/credentials';
import type { ActivityDeps } from '../activities/deps';
import { actAsLink, isHeld } from '../activities/linkAccount';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { SecretBox } from '../lib/secretBox';
import { ProviderError } from '../providers/errors';
import { closeTestClients, temporalClient, testDb } from './helpers/world';

/**
 * "Act as this link's account" is written once (activities/linkAccount.ts): every activity that
 * touches a remote calendar gets the same outcome for the same failure. The provider module is the
 * real one; only its token endpoint is a local server that answers what the test asks for.
 */
describe('acting as a link account', () => {
  let server: Server;
  let answer: { status: number; body: unknown; headers?: Record<string, string> };
  let deps: ActivityDeps;
  const tenantId = `t-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
    const config = loadConfig({
      ...process.env,
      GOOGLE_TOKEN_URL: tokenUrl,
      CALSYNC_TASK_QUEUE: `link-account-${tenantId}`,
    });
    deps = {
      db: testDb(),
      secrets: new SecretBox(config.tokenKeys),
      config,
      logger: createLogger('test', 'silent'),
      temporal: await temporalClient(),
    };
    await deps.db('tenants').insert({ id: tenantId, name: 'Link account test', settings: {} });
    await deps.db('staff').insert({ tenant_id: tenantId, id: 'sam', name: 'Sam' });
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await closeTestClients();
  });

  async function link(status: string, provider = 'google'): Promise<LinkRow> {
    const [row] = await deps
      .db('calendar_links')
      .insert({
        id: randomUUID(),
        tenant_id: tenantId,
        staff_id: 'sam',
        provider,
        account_email: `sam-${randomUUID().slice(0, 6)}@example.test`,
        calendar_id: 'primary',
        status,
        calendar_ready: true,
        refresh_token_sealed: deps.secrets.seal('refresh-token'),
      })
      .returning('*');
    return row;
  }
  const statusOf = async (row: LinkRow) => (await deps.db('calendar_links').where({ id: row.id }).first()).status;
  const failureOf = (work: Promise<unknown>) =>
    work.then(
      () => {
        throw new Error('expected a failure');
      },
      (err) => err,
    );

  test('a dead grant holds the work of a link that can be reconnected, and marks it needs_reauth', async () => {
    answer = { status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } };
    const active = await link('active');
    const err = await failureOf(actAsLink(deps, active, async () => 'never'));
    expect(isHeld(err)).toBe(true);
    expect(err.message).toContain('invalid_grant');
    expect(await statusOf(active)).toBe('needs_reauth');
    const failure = activityFailure(err);
    expect([failure.type, failure.nonRetryable]).toEqual(['link_needs_reauth', true]);
  });

  test('a link being disconnected is not held (it will never be reconnected) and keeps its status', async () => {
    answer = { status: 400, body: { error: 'invalid_grant' } };
    const leaving = await link('disconnecting');
    const err = await failureOf(actAsLink(deps, leaving, async () => 'never'));
    expect(isHeld(err)).toBe(false);
    expect([err.kind, err.code]).toEqual(['auth', 'invalid_grant']);
    expect(await statusOf(leaving)).toBe('disconnecting');
    expect(activityFailure(err).nonRetryable).toBe(true);
  });

  test("the server's Retry-After survives as the next attempt's delay", async () => {
    answer = { status: 429, body: { error: 'rate_limited' }, headers: { 'retry-after': '7' } };
    const busy = await link('active');
    const failure = activityFailure(await failureOf(actAsLink(deps, busy, async () => 'never')));
    expect([failure.type, failure.nonRetryable]).toEqual(['rate_limited', false]);
    expect(failure.nextRetryDelay).toBe(7000);
    expect(await statusOf(busy)).toBe('active');
  });

  test("a provider's 401 drops the cached access token; an unclassified error is a retryable internal failure", async () => {
    answer = { status: 200, body: { access_token: 'fresh', expires_in: 3600 } };
    const row = await link('active');
    const unauthorized = await failureOf(
      actAsLink(deps, row, async () => {
        throw new ProviderError('retryable', 'authError', 'expired', 401);
      }),
    );
    expect(unauthorized.code).toBe('authError');
    expect((await deps.db('calendar_links').where({ id: row.id }).first()).access_token_sealed).toBeNull();
    const internal = activityFailure(
      await failureOf(
        actAsLink(deps, row, async () => {
          throw new TypeError('boom');
        }),
      ),
    );
    expect([internal.type, internal.nonRetryable]).toEqual(['internal', false]);
    // calsync's own decisions pass through untouched.
    const own = ApplicationFailure.nonRetryable('no such page', 'bad_page_token');
    expect(
      await failureOf(
        actAsLink(deps, row, async () => {
          throw own;
        }),
      ),
    ).toBe(own);
  });

  test("calsync's own pacing failing in PostgreSQL (a restart, a full pool) is retryable, not the provider's permanent error", async () => {
    // The pacing query runs inside the provider's request (before it is sent): a read-only session
    // makes PostgreSQL refuse it with an error of its own, as a restart or "too many clients" would.
    const readOnly = knex({
      client: 'pg',
      connection: process.env.DATABASE_URL,
      pool: {
        min: 0,
        max: 1,
        afterCreate: (conn: any, done: (err: unknown, conn: unknown) => void) =>
          conn.query('set default_transaction_read_only = on', (err: unknown) => done(err, conn)),
      },
    });
    try {
      const row = {
        ...(await link('active')),
        access_token_sealed: deps.secrets.seal('access-token'),
        access_token_expires_at: new Date(Date.now() + 3600_000),
      };
      const failure = activityFailure(
        await failureOf(
          actAsLink({ ...deps, db: readOnly }, row, async (account) =>
            (await account.calendar()).deleteEvent({ calendarId: 'primary', eventId: 'calsyncpacing' }),
          ),
        ),
      );
      expect([failure.type, failure.nonRetryable]).toEqual(['internal', false]);
    } finally {
      await readOnly.destroy();
    }
  });

  test('an unknown provider is a permanent provider_unsupported, never another provider', async () => {
    const odd = await link('active', 'outlook-classic');
    const failure = activityFailure(await failureOf(actAsLink(deps, odd, async () => 'never')));
    expect([failure.type, failure.nonRetryable]).toEqual(['provider_unsupported', true]);
  });
});
