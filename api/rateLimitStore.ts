import type { Knex } from 'knex';

// Windows long over are deleted now and then, not on every request.
const SWEEP_EVERY_MS = 10 * 60_000;
/** How long a bucket's count may go on locally before it is added to PostgreSQL's. */
const SYNC_EVERY_MS = 250;
/** Buckets counted locally at once; beyond, requests go to PostgreSQL one by one (a flood of addresses). */
const MAX_LOCAL_BUCKETS = 10_000;

interface LocalBucket {
  /** The window's total as last read from PostgreSQL plus what this replica added since. */
  total: number;
  resetsAt: number;
  /** Added here, not yet in PostgreSQL. */
  pending: number;
  syncedAt: number;
}

/**
 * Rate-limit counters in PostgreSQL, so a limit holds across API replicas. A bucket's window starts
 * at its first request and lasts `windowMs`; each request adds its cost. A busy bucket is not
 * written on every request (an upsert per request was a tenth of the API's CPU under load): within
 * SYNC_EVERY_MS of its last write, and while its count is below half the limit, a request adds to
 * the local count and the sum is written in one upsert at the next sync. From half the limit on,
 * every request is counted in PostgreSQL, so the limit holds exactly across replicas as long as
 * what the others counted locally in one interval stays under the other half.
 */
export class PostgresRateLimitStore {
  private readonly sweeper: NodeJS.Timeout;
  private readonly flusher: NodeJS.Timeout;
  private readonly local = new Map<string, LocalBucket>();

  constructor(
    private readonly db: Knex,
    private readonly windowMs: number,
  ) {
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), SWEEP_EVERY_MS);
    this.sweeper.unref();
    this.flusher = setInterval(() => void this.flush().catch(() => undefined), SYNC_EVERY_MS);
    this.flusher.unref();
  }

  /** Adds `cost` to the bucket's window (a new window if the last one is over): the total so far and when it resets. */
  async add(key: string, cost: number, limit: number): Promise<{ totalHits: number; resetTime: Date }> {
    const now = Date.now();
    const bucket = this.local.get(key);
    const fresh = bucket && bucket.resetsAt > now && now - bucket.syncedAt < SYNC_EVERY_MS;
    // Only far from the limit: the request that may cross it is always counted in PostgreSQL.
    if (fresh && bucket.total + cost <= limit / 2) {
      bucket.total += cost;
      bucket.pending += cost;
      return { totalHits: bucket.total, resetTime: new Date(bucket.resetsAt) };
    }
    // What was counted locally in a window that is over belongs to no window any more.
    const carried = bucket && bucket.resetsAt > now ? bucket.pending : 0;
    if (bucket) bucket.pending = 0;
    let written: { hits: number; resetsAt: number };
    try {
      written = await this.write(key, carried + cost);
    } catch (err) {
      if (bucket) bucket.pending += carried;
      throw err;
    }
    this.remember(key, written);
    const kept = this.local.get(key);
    return { totalHits: kept ? kept.total : written.hits, resetTime: new Date(written.resetsAt) };
  }

  /** Writes what is counted locally and not yet in PostgreSQL (also on shutdown). */
  async flush(): Promise<void> {
    const now = Date.now();
    for (const [key, bucket] of this.local) {
      if (bucket.pending === 0) {
        if (bucket.resetsAt <= now) this.local.delete(key);
        continue;
      }
      const pending = bucket.pending;
      bucket.pending = 0;
      try {
        this.remember(key, await this.write(key, pending));
      } catch (err) {
        bucket.pending += pending;
        throw err;
      }
    }
  }

  async shutdown(): Promise<void> {
    clearInterval(this.sweeper);
    clearInterval(this.flusher);
    await this.flush().catch(() => undefined);
  }

  /** PostgreSQL's total after a write, plus what this replica counted meanwhile. */
  private remember(key: string, written: { hits: number; resetsAt: number }): void {
    const pendingSince = this.local.get(key)?.pending ?? 0;
    if (!this.local.has(key) && this.local.size >= MAX_LOCAL_BUCKETS) return;
    this.local.set(key, {
      total: written.hits + pendingSince,
      resetsAt: written.resetsAt,
      pending: pendingSince,
      syncedAt: Date.now(),
    });
  }

  private async write(key: string, cost: number): Promise<{ hits: number; resetsAt: number }> {
    const interval = `${this.windowMs} milliseconds`;
    const { rows } = await this.db.raw(
      `insert into api_rate_limits as r (key, hits, resets_at) values (?, ?, now() + ?::interval)
       on conflict (key) do update set
         hits = case when r.resets_at <= now() then excluded.hits else r.hits + excluded.hits end,
         resets_at = case when r.resets_at <= now() then excluded.resets_at else r.resets_at end
       returning hits, resets_at`,
      [key, cost, interval],
    );
    return { hits: Number(rows[0].hits), resetsAt: new Date(rows[0].resets_at).getTime() };
  }

  private async sweep(): Promise<void> {
    await this.db('api_rate_limits').where('resets_at', '<', this.db.raw(`now() - interval '1 hour'`)).delete();
  }
}
