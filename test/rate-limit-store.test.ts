import { PostgresRateLimitStore } from '../api/rateLimitStore';
import { closeTestClients, testDb } from './helpers/world';

const stored = async (key: string) =>
  Number((await testDb()('api_rate_limits').where({ key }).first('hits'))?.hits ?? 0);

/**
 * Rate-limit counts are batched while a bucket is far from its limit, and exact where it matters:
 * the request that crosses the limit is counted in PostgreSQL with everything before it.
 */
describe('rate-limit counts in PostgreSQL', () => {
  const stores: PostgresRateLimitStore[] = [];
  const newStore = () => {
    const store = new PostgresRateLimitStore(testDb(), 60_000);
    stores.push(store);
    return store;
  };
  afterAll(async () => {
    for (const s of stores) await s.shutdown();
    await closeTestClients();
  });

  test('a busy bucket far from its limit is written in batches, every total still exact', async () => {
    const key = `test:batched-${Date.now()}`;
    const store = newStore();
    const totals: number[] = [];
    for (let i = 0; i < 40; i++) totals.push((await store.add(key, 1, 1000)).totalHits);
    expect(totals).toEqual(totals.map((_, i) => i + 1));
    // Fewer rows written than requests: most were counted locally.
    expect(await stored(key)).toBeLessThan(40);
    await store.flush();
    expect(await stored(key)).toBe(40);
  });

  test('from half the limit on every request is counted in PostgreSQL: two replicas share one exact limit', async () => {
    const key = `test:shared-${Date.now()}`;
    const [a, b] = [newStore(), newStore()];
    const limit = 10;
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) seen.push((await a.add(key, 1, limit)).totalHits);
    for (let i = 0; i < 6; i++) seen.push((await b.add(key, 1, limit)).totalHits);
    // The eleventh request overall is the first over the limit, whichever replica takes it.
    expect(seen.filter((t) => t > limit)).toHaveLength(2);
    expect(seen.slice(6)).toEqual([7, 8, 9, 10, 11, 12]);
  });

  test('a new window starts from zero, whatever was counted locally in the last one', async () => {
    const key = `test:window-${Date.now()}`;
    const store = new PostgresRateLimitStore(testDb(), 300);
    stores.push(store);
    for (let i = 0; i < 5; i++) await store.add(key, 1, 1000);
    await new Promise((r) => setTimeout(r, 400));
    expect((await store.add(key, 1, 1000)).totalHits).toBe(1);
  });
});
