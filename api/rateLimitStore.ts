import type { Knex } from 'knex';

// Windows long over are deleted now and then, not on every request.
const SWEEP_EVERY_MS = 10 * 60_000;

/**
 * Rate-limit counters in PostgreSQL, so a limit holds across API replicas. A bucket's window starts
 * at its first request and lasts `windowMs`; each request adds its cost. One upsert a request.
 */
export class PostgresRateLimitStore {
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly db: Knex,
    private readonly windowMs: number,
  ) {
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  /** Adds `cost` to the bucket's window (a new window if the last one is over): the total so far and when it resets. */
  async add(key: string, cost: number): Promise<{ totalHits: number; resetTime: Date }> {
    const interval = `${this.windowMs} milliseconds`;
    const { rows } = await this.db.raw(
      `insert into api_rate_limits as r (key, hits, resets_at) values (?, ?, now() + ?::interval)
       on conflict (key) do update set
         hits = case when r.resets_at <= now() then excluded.hits else r.hits + excluded.hits end,
         resets_at = case when r.resets_at <= now() then excluded.resets_at else r.resets_at end
       returning hits, resets_at`,
      [key, cost, interval],
    );
    return { totalHits: Number(rows[0].hits), resetTime: new Date(rows[0].resets_at) };
  }

  shutdown(): void {
    clearInterval(this.sweeper);
  }

  private async sweep(): Promise<void> {
    await this.db('api_rate_limits').where('resets_at', '<', this.db.raw(`now() - interval '1 hour'`)).delete();
  }
}
