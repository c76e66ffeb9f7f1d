import type { Knex } from 'knex';
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';

// Windows long over are deleted now and then, not on every request.
const SWEEP_EVERY_MS = 10 * 60_000;

/**
 * express-rate-limit's counters in PostgreSQL, so a limit holds across API replicas. As the memory
 * store does, a key's window starts at its first request and lasts `windowMs`; one upsert a request.
 */
export class PostgresRateLimitStore implements Store {
  readonly localKeys = false;
  private windowMs = 60_000;
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly db: Knex) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const interval = `${this.windowMs} milliseconds`;
    const { rows } = await this.db.raw(
      `insert into api_rate_limits as r (key, hits, resets_at) values (?, 1, now() + ?::interval)
       on conflict (key) do update set
         hits = case when r.resets_at <= now() then 1 else r.hits + 1 end,
         resets_at = case when r.resets_at <= now() then now() + ?::interval else r.resets_at end
       returning hits, resets_at`,
      [key, interval, interval],
    );
    return { totalHits: Number(rows[0].hits), resetTime: new Date(rows[0].resets_at) };
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const row = await this.db('api_rate_limits')
      .where({ key })
      .where('resets_at', '>', this.db.fn.now())
      .first('hits', 'resets_at');
    return row ? { totalHits: Number(row.hits), resetTime: new Date(row.resets_at) } : undefined;
  }

  async decrement(key: string): Promise<void> {
    await this.db('api_rate_limits').where({ key }).where('hits', '>', 0).decrement('hits', 1);
  }

  async resetKey(key: string): Promise<void> {
    await this.db('api_rate_limits').where({ key }).delete();
  }

  shutdown(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  private async sweep(): Promise<void> {
    await this.db('api_rate_limits').where('resets_at', '<', this.db.raw(`now() - interval '1 hour'`)).delete();
  }
}
