import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { hashApiKey } from '../api/auth';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { freePort } from '../scripts/stack';
import { appointmentBody, createTenant, waitUntil } from './helpers/api';
import { googleEmulator } from './helpers/emulator';
import { startAppStack, type AppStack } from './helpers/stack';
import { TenantWorld, closeTestClients, testDb } from './helpers/world';

interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/**
 * The source address of this file's requests, as the limited stacks read it. Address buckets are
 * shared through the database by every API in it, and the emulators' push notifications to the
 * other stack's webhooks come from 127.0.0.1 too: counted in the same bucket, one of them refused
 * the fifth of five allowed guesses in CI.
 */
const SOURCE = '203.0.113.77';
const SOURCE_BUCKET = `ip:${SOURCE}`;

async function request(
  url: string,
  opts: { method?: string; key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  // Only the rate-limited stacks believe it (TRUST_PROXY): their address buckets are this file's alone.
  const headers: Record<string, string> = { 'x-forwarded-for': SOURCE, ...opts.headers };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method: opts.method ?? 'GET',
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Prometheus text, not JSON
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** The value of the one series of `name` whose labels are exactly `labels`; undefined when there is none. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = text
    .split('\n')
    .map((line) => line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/))
    .filter((m): m is RegExpMatchArray => m !== null && m[1] === name)
    .map((m) => ({
      labels: Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]])),
      value: Number(m[3]),
    }))
    .filter(
      (s) =>
        Object.keys(s.labels).length === Object.keys(labels).length &&
        Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  if (found.length > 1) throw new Error(`${name}: ${found.length} series match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** Between the worker and the Google emulator: notes the X-Request-Id of every Calendar API call. */
async function recordingProxy(target: string) {
  const calls: { method: string; url: string; requestId: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    calls.push({ method: req.method!, url: req.url!, requestId: req.headers['x-request-id'] as string | undefined });
    const upstream = http.request(new URL(req.url!, target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    calls,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('security and operations', () => {
  let stack: AppStack;
  let limited: AppStack;
  /** A second API replica with the same limit: the counts are shared through PostgreSQL. */
  let limitedReplica: AppStack;
  let world: TenantWorld;
  let workerMetricsPort: number;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  const api = (p: string) => `${stack.apiUrl}${p}`;

  beforeAll(async () => {
    workerMetricsPort = await freePort();
    proxy = await recordingProxy(process.env.GOOGLE_EMULATOR_URL!);
    [stack, limited, limitedReplica] = await Promise.all([
      startAppStack({
        CALSYNC_ADMIN_KEYS: 'admin-key-new, admin-key-next',
        WORKER_METRICS_PORT: String(workerMetricsPort),
        LOG_LEVEL: 'info',
        GOOGLE_API_ROOT_URL: proxy.url,
      }),
      startAppStack({
        API_RATE_LIMIT_PER_MINUTE: '5',
        API_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE: '5',
        METRICS_TOKEN: 'metrics-secret',
        TRUST_PROXY: 'loopback',
      }),
      startAppStack({
        API_RATE_LIMIT_PER_MINUTE: '5',
        API_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE: '5',
        TRUST_PROXY: 'loopback',
      }),
    ]);
    world = await TenantWorld.create(stack.apiUrl);
  });
  afterAll(async () => {
    await Promise.all([stack?.stop(), limited?.stop(), limitedReplica?.stop()]);
    await proxy?.close();
    await closeTestClients();
  });

  test('security headers on every answer, no x-powered-by', async () => {
    const answers = await Promise.all([
      request(api('/healthz')),
      request(api('/v1/settings'), { key: world.key }),
      request(api('/v1/settings'), { key: 'csk_wrong' }),
      request(api('/nowhere')),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 401, 404]);
    for (const a of answers) {
      expect(a.headers.get('x-content-type-options')).toBe('nosniff');
      expect(a.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(a.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
      expect(a.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
      expect(a.headers.get('x-powered-by')).toBeNull();
    }
  });

  test('admin keys: every key of CALSYNC_ADMIN_KEYS and CALSYNC_ADMIN_KEY works, any other does not', () => {
    expect(loadConfig({ CALSYNC_ADMIN_KEYS: ' a, b ,,a', CALSYNC_ADMIN_KEY: 'c' }).adminApiKeys).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(loadConfig({}).adminApiKeys).toEqual([]);
  });

  test('admin key rotation through CALSYNC_ADMIN_KEYS', async () => {
    const create = (key: string, id: string) =>
      request(api('/v1/admin/tenants'), { method: 'POST', key, body: { id, name: id } });
    const suffix = Math.random().toString(36).slice(2, 8);
    expect((await create('admin-key-new', `rot-a-${suffix}`)).status).toBe(201);
    expect((await create('admin-key-next', `rot-b-${suffix}`)).status).toBe(201);
    // The old single key keeps working during the rollout.
    expect((await create('test-admin-key', `rot-c-${suffix}`)).status).toBe(201);
    const refused = await create('admin-key-retired', `rot-d-${suffix}`);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('unauthorized');
    expect((await create(world.key, `rot-e-${suffix}`)).status).toBe(401);
    expect(await testDb()('tenants').whereIn('id', [`rot-d-${suffix}`, `rot-e-${suffix}`])).toEqual([]);
  });

  test('tenant key rotation: issue, switch, revoke; the last key stays; other tenants cannot touch it', async () => {
    const tenant = await TenantWorld.create(stack.apiUrl);
    const first = await request(api('/v1/api-keys'), { key: tenant.key });
    expect(first.status).toBe(200);
    expect(first.body.apiKeys).toHaveLength(1);
    const oldId = first.body.apiKeys[0].id;
    expect(Object.keys(first.body.apiKeys[0]).sort()).toEqual([
      'createdAt',
      'current',
      'id',
      'lastUsedAt',
      'revokedAt',
    ]);
    expect(first.body.apiKeys[0]).toMatchObject({ current: true, revokedAt: null });

    const issued = await request(api('/v1/api-keys'), { method: 'POST', key: tenant.key });
    expect(issued.status).toBe(201);
    const newKey: string = issued.body.apiKey;
    expect(newKey).toMatch(/^csk_[A-Za-z0-9_-]{32}$/);
    expect(newKey).not.toBe(tenant.key);
    expect(issued.body).toMatchObject({ current: false, revokedAt: null });
    expect((await request(api('/v1/settings'), { key: newKey })).status).toBe(200);

    const both = await request(api('/v1/api-keys'), { key: newKey });
    expect(both.body.apiKeys.map((k: any) => [k.id, k.current, k.revokedAt])).toEqual([
      [oldId, false, null],
      [issued.body.id, true, null],
    ]);
    for (const secret of [tenant.key, newKey, hashApiKey(tenant.key), hashApiKey(newKey)])
      expect(both.text).not.toContain(secret);
    // Last use is recorded off the request path, at most once a minute.
    await waitUntil(
      'lastUsedAt of the new key',
      async () => {
        const keys = (await request(api('/v1/api-keys'), { key: newKey })).body.apiKeys;
        return keys.find((k: any) => k.id === issued.body.id).lastUsedAt !== null;
      },
      5000,
    );

    // Another tenant can neither see nor revoke this tenant's keys.
    const other = await TenantWorld.create(stack.apiUrl);
    const foreign = await request(api(`/v1/api-keys/${oldId}`), { method: 'DELETE', key: other.key });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toBe('not_found');
    expect((await request(api('/v1/api-keys'), { key: other.key })).body.apiKeys.map((k: any) => k.id)).not.toContain(
      oldId,
    );
    expect((await request(api('/v1/settings'), { key: tenant.key })).status).toBe(200);

    const revoked = await request(api(`/v1/api-keys/${oldId}`), { method: 'DELETE', key: newKey });
    expect(revoked.status).toBe(200);
    expect(revoked.body.id).toBe(oldId);
    expect(new Date(revoked.body.revokedAt).getTime()).toBeGreaterThan(0);
    // At once on the API that revoked it (others: within API_KEY_CACHE_MS, test/api-key-cache.test.ts).
    const refused = await request(api('/v1/settings'), { key: tenant.key });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('unauthorized');
    // Revoking again is harmless; the new key keeps working.
    expect((await request(api(`/v1/api-keys/${oldId}`), { method: 'DELETE', key: newKey })).status).toBe(200);
    expect((await request(api('/v1/settings'), { key: newKey })).status).toBe(200);

    const last = await request(api(`/v1/api-keys/${issued.body.id}`), { method: 'DELETE', key: newKey });
    expect(last.status).toBe(409);
    expect(last.body.error).toBe('last_key');
    expect((await request(api('/v1/settings'), { key: newKey })).status).toBe(200);
    expect((await request(api('/v1/api-keys/no-such-key'), { method: 'DELETE', key: newKey })).status).toBe(404);

    const rows = await testDb()('api_keys').where({ tenant_id: tenant.tenantId }).orderBy('created_at');
    expect(rows.map((r) => [r.id, r.revoked_at !== null])).toEqual([
      [oldId, true],
      [issued.body.id, false],
    ]);
  });

  test('rate limit per tenant: 429 with Retry-After after the limit, other tenants unaffected', async () => {
    // Made through the unlimited stack: the admin key's count is shared by every API in this database.
    const a = await createTenant(stack.apiUrl);
    const b = await createTenant(stack.apiUrl);
    const url = `${limited.apiUrl}/v1/settings`;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await request(url, { key: a.key })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const limitedAnswer = await request(url, { key: a.key });
    expect(limitedAnswer.status).toBe(429);
    expect(limitedAnswer.body).toEqual({
      error: 'rate_limited',
      message: expect.stringContaining('at most 5 cost units per minute per tenant'),
    });
    const retryAfter = Number(limitedAnswer.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limitedAnswer.headers.get('x-request-id')).toMatch(uuid);
    // Still limited, and the limit is per key: the other tenant is served.
    expect((await request(url, { key: a.key })).status).toBe(429);
    expect((await request(url, { key: b.key })).status).toBe(200);

    // One limit across API replicas: three requests here and two at the replica use it up.
    const c = await createTenant(stack.apiUrl);
    const spread: number[] = [];
    for (const apiUrl of [
      limited.apiUrl,
      limited.apiUrl,
      limited.apiUrl,
      limitedReplica.apiUrl,
      limitedReplica.apiUrl,
      limitedReplica.apiUrl,
    ]) {
      spread.push((await request(`${apiUrl}/v1/settings`, { key: c.key })).status);
    }
    expect(spread).toEqual([200, 200, 200, 200, 200, 429]);

    // Without a key the client's address is the bucket: refusing bad keys does not mean unlimited tries.
    // (Earlier tests called from this address too: start its count afresh.)
    await testDb()('api_rate_limits').where('key', SOURCE_BUCKET).delete();
    const anonymous: number[] = [];
    for (let i = 0; i < 6; i++) anonymous.push((await request(url)).status);
    expect(anonymous).toEqual([401, 401, 401, 401, 401, 429]);
  });

  test('a made-up key has no bucket of its own: every refused key spends its address', async () => {
    await testDb()('api_rate_limits').where('key', SOURCE_BUCKET).delete();
    // Tenants and 127.0.0.1 (the emulators' notifications) add buckets meanwhile; any other key would be a guess's own.
    const otherBuckets = async () =>
      (await testDb()('api_rate_limits').whereNot('key', 'like', 'tenant:%').select('key'))
        .map((r) => r.key as string)
        .filter((key) => key !== 'ip:127.0.0.1' && key !== 'ip:::1')
        .sort();
    const before = await otherBuckets();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await request(`${limited.apiUrl}/v1/settings`, { key: `csk_guess${i}` })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    // Admin keys too, from the same budget.
    expect((await request(`${limited.apiUrl}/v1/admin/tenants`, { method: 'POST', key: 'admin-guess' })).status).toBe(
      429,
    );
    // Six guesses, one row (the address), not one per guess.
    expect(await otherBuckets()).toEqual([...before, SOURCE_BUCKET].sort());
  });

  test('one budget per address for all without a tenant key: webhooks, connect page, OAuth callback, codec login', async () => {
    await testDb()('api_rate_limits').where('key', SOURCE_BUCKET).delete();
    const at = (p: string) => `${limited.apiUrl}${p}`;
    const answers = [
      await request(at('/webhooks/google'), { method: 'POST' }),
      await request(at('/connect?session=nothing')),
      await request(at('/oauth/callback/google?code=x&state=y')),
      await request(at('/codec/login'), { method: 'POST', body: { key: 'wrong' } }),
      await request(at('/webhooks/microsoft'), { method: 'POST', body: { value: [] } }),
    ];
    expect(answers.map((a) => a.status)).not.toContain(429);
    // The sixth, a provider notification, is refused with 429 and Retry-After (providers retry), never dropped silently.
    const refused = await request(at('/webhooks/google'), { method: 'POST' });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe('rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // A tenant key's requests are the tenant's budget, not the address's.
    const tenant = await createTenant(stack.apiUrl);
    expect((await request(at('/v1/settings'), { key: tenant.key })).status).toBe(200);
  });

  test('expensive routes cost more: a busy read spends what five settings reads do', async () => {
    const tenant = await createTenant(stack.apiUrl);
    await request(api('/v1/staff/ann'), { method: 'PUT', key: tenant.key, body: { name: 'Ann' } });
    const from = new Date(Date.now() + 86400000).toISOString();
    const to = new Date(Date.now() + 8 * 86400000).toISOString();
    // Setting the tenant up (through the unlimited API) spent from the same budget: start it afresh.
    await testDb()('api_rate_limits').where('key', 'like', 'tenant:%').delete();
    const busy = await request(`${limited.apiUrl}/v1/staff/ann/busy?from=${from}&to=${to}`, { key: tenant.key });
    expect(busy.status).toBe(200);
    expect(busy.headers.get('ratelimit')).toMatch(/remaining=0/);
    const next = await request(`${limited.apiUrl}/v1/settings`, { key: tenant.key });
    expect(next.status).toBe(429);
    expect(next.body.message).toContain('this request costs 1');
  });

  test('API /metrics needs METRICS_TOKEN when it is set', async () => {
    expect((await request(`${limited.apiUrl}/metrics`)).status).toBe(401);
    expect((await request(`${limited.apiUrl}/metrics`, { key: 'wrong' })).status).toBe(401);
    const ok = await request(`${limited.apiUrl}/metrics`, { key: 'metrics-secret' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(ok.text).toContain('# TYPE calsync_links gauge');
  });

  test('request ids: accepted or replaced, echoed, and carried to the sync log', async () => {
    const ria = await world.staffWithGoogle('ria');
    const put = (revision: number, requestId?: string) =>
      request(api('/v1/appointments/rid-1'), {
        method: 'PUT',
        key: world.key,
        body: appointmentBody({ revision, staffIds: ['ria'] }),
        headers: requestId ? { 'x-request-id': requestId } : {},
      });

    const first = await put(1, 'test-req-123');
    expect(first.status).toBe(202);
    expect(first.headers.get('x-request-id')).toBe('test-req-123');
    await world.waitSynced('rid-1', 1);
    const log = () => testDb()('sync_log').where({ tenant_id: world.tenantId, appointment_id: 'rid-1' }).orderBy('id');
    expect((await log()).map((r) => [Number(r.revision), r.action, r.result, r.request_id])).toEqual([
      [1, 'upsert', 'inserted', 'test-req-123'],
    ]);

    // The same revision sent again under another request id is the same content: a retry, not a conflict.
    const retry = await put(1, 'retry-of-123');
    expect(retry.status).toBe(202);
    expect(retry.body.outcome).toBe('accepted');

    const invalid = await put(2, 'not valid; has spaces');
    expect(invalid.status).toBe(202);
    const replaced = invalid.headers.get('x-request-id')!;
    expect(replaced).toMatch(uuid);
    await world.waitSynced('rid-1', 2);
    expect(
      (await log()).filter((r) => Number(r.revision) === 2).map((r) => [r.action, r.result, r.request_id]),
    ).toEqual([['upsert', 'updated', replaced]]);

    const cancel = await request(api('/v1/appointments/rid-1/cancel'), {
      method: 'POST',
      key: world.key,
      body: {},
      headers: { 'x-request-id': 'cancel.req_1-A' },
    });
    expect(cancel.status).toBe(202);
    expect(cancel.headers.get('x-request-id')).toBe('cancel.req_1-A');
    await world.waitSynced('rid-1', 3);
    expect(
      (await log()).filter((r) => Number(r.revision) === 3).map((r) => [r.action, r.result, r.request_id]),
    ).toEqual([['remove', 'deleted', 'cancel.req_1-A']]);

    // The same ids reached Google, as X-Request-Id on each Calendar API call.
    const toGoogle = proxy.calls.filter((c) =>
      c.url.includes(`/calendars/${encodeURIComponent(ria.calendarId)}/events`),
    );
    expect(toGoogle.map((c) => [c.method, c.requestId])).toEqual([
      ['POST', 'test-req-123'],
      ['PUT', replaced],
      ['DELETE', 'cancel.req_1-A'],
    ]);

    // 128 characters are kept; 129 are not. No header at all: one is made up.
    const longest = 'a'.repeat(128);
    expect((await request(api('/healthz'), { headers: { 'x-request-id': longest } })).headers.get('x-request-id')).toBe(
      longest,
    );
    expect(
      (await request(api('/healthz'), { headers: { 'x-request-id': `${longest}a` } })).headers.get('x-request-id'),
    ).toMatch(uuid);
    expect((await request(api('/healthz'))).headers.get('x-request-id')).toMatch(uuid);
  });

  test('logs carry request ids but no key, token or personal datum', async () => {
    const tmp = process.env.CALSYNC_TEST_TMP!;
    const apiLog = path.join(tmp, `api-${stack.taskQueue}.log`);
    const workerLog = path.join(tmp, `worker-${stack.taskQueue}.log`);
    await waitUntil(
      'request ids in the logs',
      async () =>
        readFileSync(apiLog, 'utf8').includes('"test-req-123"') &&
        readFileSync(workerLog, 'utf8').includes('"requestId":"cancel.req_1-A"'),
      10000,
    );
    const apiText = readFileSync(apiLog, 'utf8');
    const workerText = readFileSync(workerLog, 'utf8');
    const requestLine = apiText.split('\n').find((l) => l.includes('"id":"test-req-123"'));
    expect(JSON.parse(requestLine!)).toMatchObject({
      req: { method: 'PUT', url: '/v1/appointments/rid-1', headers: { authorization: '[redacted]' } },
      res: { statusCode: 202 },
    });
    expect(workerText).toContain('"requestId":"test-req-123"');
    for (const text of [apiText, workerText]) {
      expect(text).not.toContain(world.key);
      expect(text).not.toContain('Bearer ');
      expect(text).not.toContain('Ana García');
      expect(text).not.toContain('window seat');
      expect(text).not.toContain('@example.test');
    }
  });

  test('logger redaction covers tokens, keys, auth headers and personal data', () => {
    const lines: string[] = [];
    const logger = createLogger('redaction', 'info', { write: (line: string) => void lines.push(line) });
    logger.info(
      {
        refreshToken: 'rt-secret-1',
        apiKey: 'csk_secret-2',
        link: { access_token: 'at-secret-3', accountEmail: 'someone@example.test' },
        input: { desired: { clientName: 'Client Name-4', description: 'Private note-5', title: 'Kept title' } },
        req: { headers: { authorization: 'Bearer secret-6', cookie: 'sid=secret-7' } },
        err: {
          message: 'request failed',
          config: { headers: { Authorization: 'Bearer secret-8' }, data: '{"summary":"Client Name-4"}' },
        },
        email: 'person@example.test',
      },
      'everything sensitive at once',
    );
    const [line] = lines;
    for (const secret of [
      'rt-secret-1',
      'csk_secret-2',
      'at-secret-3',
      'someone@',
      'Client Name-4',
      'Private note-5',
      'secret-6',
      'secret-7',
      'secret-8',
      'person@',
    ]) {
      expect(line).not.toContain(secret);
    }
    expect(JSON.parse(line!)).toMatchObject({
      input: { desired: { title: 'Kept title', clientName: '[redacted]' } },
      err: { message: 'request failed', config: '[redacted]' },
    });
  });

  test('API /metrics: links by provider and status from PostgreSQL, requests by route and status', async () => {
    await world.staffWithGoogle('nel');
    await testDb()('calendar_links')
      .where({ tenant_id: world.tenantId, staff_id: 'nel' })
      .update({ status: 'needs_reauth', status_reason: 'invalid_grant' });
    for (let i = 0; i < 3; i++) expect((await request(api('/openapi.json'))).status).toBe(200);

    // Links of earlier tests may still be changing state (a disconnect finishing): the scrape is
    // compared with counts read before and after it that agree.
    const linkCounts = async () => {
      const counts = await testDb()('calendar_links')
        .select('provider', 'status')
        .count({ n: '*' })
        .groupBy('provider', 'status');
      return Object.fromEntries(counts.map((c: any) => [`${c.provider}/${c.status}`, Number(c.n)]));
    };
    let expected = await linkCounts();
    let scraped = await request(api('/metrics'));
    for (let tries = 0; tries < 20; tries++) {
      const after = await linkCounts();
      if (JSON.stringify(after) === JSON.stringify(expected)) break;
      expected = after;
      scraped = await request(api('/metrics'));
    }
    expect(scraped.status).toBe(200);
    expect(expected['google/needs_reauth']).toBeGreaterThanOrEqual(1);
    expect(metric(scraped.text, 'calsync_links', { provider: 'google', status: 'active' })).toBe(
      expected['google/active'],
    );
    expect(metric(scraped.text, 'calsync_links', { provider: 'google', status: 'needs_reauth' })).toBe(
      expected['google/needs_reauth'],
    );

    expect(
      metric(scraped.text, 'calsync_http_requests_total', { method: 'GET', route: '/openapi.json', status: '200' }),
    ).toBe(3);
    expect(
      metric(scraped.text, 'calsync_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/openapi.json',
        status: '200',
      }),
    ).toBe(3);
    // Route patterns, never raw paths: one series for every appointment id.
    expect(
      metric(scraped.text, 'calsync_http_requests_total', {
        method: 'PUT',
        route: '/v1/appointments/:id',
        status: '202',
      }),
    ).toBe(3);
    expect(
      metric(scraped.text, 'calsync_http_requests_total', {
        method: 'POST',
        route: '/v1/appointments/:id/cancel',
        status: '202',
      }),
    ).toBe(1);
    expect(scraped.text).not.toContain('rid-1');
    expect(
      metric(scraped.text, 'calsync_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }),
    ).toBe(1);
  });

  test('worker /metrics: sync attempts by outcome and error code, provider latency, sync lag', async () => {
    const fay = await world.staffWithGoogle('fay');
    await googleEmulator.forbidCalendar(fay.calendarId, true);
    try {
      expect((await world.put('forbidden-1', { revision: 1, staffIds: ['fay'] })).status).toBe(202);
      await waitUntil('a permanent failure', async () => (await world.status('forbidden-1')).sync.state === 'failed');
    } finally {
      await googleEmulator.forbidCalendar(fay.calendarId, false);
    }

    const rows = await testDb()('sync_log')
      .join('tenants', 'tenants.id', 'sync_log.tenant_id')
      .where('tenants.id', world.tenantId)
      .select('sync_log.*');
    const failures = rows.filter((r) => r.result === 'error');
    expect(failures.map((r) => [r.appointment_id, r.error_code])).toEqual([['forbidden-1', 'forbidden']]);

    const scraped = await request(`http://127.0.0.1:${workerMetricsPort}/metrics`);
    expect(scraped.status).toBe(200);
    const attempts = (labels: Record<string, string>) =>
      metric(scraped.text, 'calsync_sync_attempts_total', { provider: 'google', ...labels });
    // rid-1: insert (rev 1), update (rev 2), remove (rev 3, cancelled); forbidden-1: one refused insert.
    expect(attempts({ action: 'upsert', result: 'ok', code: 'none' })).toBe(2);
    expect(attempts({ action: 'remove', result: 'ok', code: 'none' })).toBe(1);
    expect(attempts({ action: 'upsert', result: 'error', code: 'forbidden' })).toBe(1);
    expect(rows.filter((r) => r.result !== 'error')).toHaveLength(3);
    expect(metric(scraped.text, 'calsync_sync_retries_total', { provider: 'google' })).toBeUndefined();

    const requests = (operation: string) =>
      metric(scraped.text, 'calsync_provider_request_seconds_count', { provider: 'google', operation });
    expect([requests('events.insert'), requests('events.update'), requests('events.delete')]).toEqual([2, 1, 1]);

    expect(metric(scraped.text, 'calsync_sync_lag_seconds_count', { provider: 'google' })).toBe(3);
    const lagSum = metric(scraped.text, 'calsync_sync_lag_seconds_sum', { provider: 'google' })!;
    expect(lagSum).toBeGreaterThan(0);
    expect(lagSum).toBeLessThan(60);

    expect((await request(`http://127.0.0.1:${workerMetricsPort}/other`)).status).toBe(404);
  });
});
