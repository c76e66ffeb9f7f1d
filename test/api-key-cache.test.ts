import path from 'node:path';
import { ApiKeyCache } from '../api/apiKeyCache';
import { freePort, httpAnswers, spawnNode, waitFor, type Service } from '../scripts/stack';
import { call } from './helpers/api';
import { useAppStack } from './helpers/stack';
import { TenantWorld } from './helpers/world';

/**
 * API keys are trusted for API_KEY_CACHE_MS once looked up (api/apiKeyCache.ts), so a request no
 * longer costs a PostgreSQL round trip for its key. What must hold: the API process that revokes a
 * key refuses it at once; another API process refuses it within API_KEY_CACHE_MS.
 */
const TTL_MS = 3000;

describe('API key cache and revocation', () => {
  const stack = useAppStack({ API_KEY_CACHE_MS: String(TTL_MS) });
  let other: Service;
  let otherUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    other = spawnNode('api', 'api/main.ts', {
      env: {
        CALSYNC_TASK_QUEUE: stack.taskQueue,
        API_PORT: String(port),
        API_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE: '1000000',
        API_KEY_CACHE_MS: String(TTL_MS),
      },
      logFile: path.join(process.env.CALSYNC_TEST_TMP!, `api-${stack.taskQueue}-${port}.log`),
    });
    otherUrl = `http://127.0.0.1:${port}`;
    await waitFor('second API', () => httpAnswers(`${otherUrl}/healthz`), 60000);
  });

  afterAll(async () => {
    await other?.stop();
  });

  test('revoked on one API: refused there at once, on another API within API_KEY_CACHE_MS', async () => {
    const world = await TenantWorld.create(stack.apiUrl);
    const issued = await world.call('POST', '/v1/api-keys');
    expect(issued.status).toBe(201);
    const newKey: string = issued.body.apiKey;
    const oldId = (await world.call('GET', '/v1/api-keys')).body.apiKeys.find(
      (k: { current: boolean }) => k.current,
    ).id;
    const settings = (url: string, key: string) => call(url, 'GET', '/v1/settings', { key });

    // Both APIs have looked the old key up (and keep it).
    expect((await settings(stack.apiUrl, world.key)).status).toBe(200);
    expect((await settings(otherUrl, world.key)).status).toBe(200);

    const revoked = await call(stack.apiUrl, 'DELETE', `/v1/api-keys/${oldId}`, { key: newKey });
    expect(revoked.status).toBe(200);
    const revokedAt = Date.now();
    // The API that revoked it forgets it at once.
    const here = await settings(stack.apiUrl, world.key);
    expect([here.status, here.body.error]).toEqual([401, 'unauthorized']);
    // The other still trusts what it looked up a moment ago: the documented window, no longer.
    expect((await settings(otherUrl, world.key)).status).toBe(200);
    let refusedAfter = 0;
    for (;;) {
      const there = await settings(otherUrl, world.key);
      if (there.status === 401) {
        refusedAfter = Date.now() - revokedAt;
        break;
      }
      expect(there.status).toBe(200);
      expect(Date.now() - revokedAt).toBeLessThan(TTL_MS + 2000);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(refusedAfter).toBeLessThanOrEqual(TTL_MS + 200);
    // The new key works on both; an unknown key is refused on both (refusals are never kept).
    for (const url of [stack.apiUrl, otherUrl]) {
      expect((await settings(url, newKey)).status).toBe(200);
      expect((await settings(url, `${newKey}x`)).status).toBe(401);
    }
  });
});

describe('ApiKeyCache', () => {
  const key = (id: string) => ({ id, tenantId: 't', lastUsedMs: null });

  test('a found key is kept for the TTL, then looked up again; a key not found is never kept', async () => {
    const cache = new ApiKeyCache(200);
    let lookups = 0;
    const lookup = async () => {
      lookups += 1;
      return key('k1');
    };
    await cache.get('h1', lookup);
    await cache.get('h1', lookup);
    expect(lookups).toBe(1);
    await new Promise((r) => setTimeout(r, 250));
    await cache.get('h1', lookup);
    expect(lookups).toBe(2);

    let misses = 0;
    const unknown = async () => {
      misses += 1;
      return undefined;
    };
    expect(await cache.get('h2', unknown)).toBeUndefined();
    expect(await cache.get('h2', unknown)).toBeUndefined();
    expect(misses).toBe(2);
  });

  test('a lookup under way while a key is revoked is answered but not kept', async () => {
    const cache = new ApiKeyCache(60_000);
    let release!: () => void;
    const slow = cache.get('h1', () => new Promise((resolve) => (release = () => resolve(key('k1')))));
    cache.forget('k1');
    release();
    expect(await slow).toEqual(key('k1'));
    let lookups = 0;
    await cache.get('h1', async () => {
      lookups += 1;
      return undefined;
    });
    expect(lookups).toBe(1);
  });

  test('forget drops the key; TTL 0 keeps nothing; the oldest entry goes when full', async () => {
    const counted = () => {
      const c = { n: 0, lookup: async () => (c.n++, key('k1')) };
      return c;
    };
    const cache = new ApiKeyCache(60_000, 2);
    const a = counted();
    await cache.get('h1', a.lookup);
    cache.forget('k1');
    await cache.get('h1', a.lookup);
    expect(a.n).toBe(2);

    const none = new ApiKeyCache(0);
    const b = counted();
    await none.get('h1', b.lookup);
    await none.get('h1', b.lookup);
    expect(b.n).toBe(2);

    const c = counted();
    await cache.get('h2', async () => key('k2'));
    await cache.get('h3', async () => key('k3'));
    await cache.get('h1', c.lookup);
    expect(c.n).toBe(1);
  });
});
