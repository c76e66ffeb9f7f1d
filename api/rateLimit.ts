import type { Request, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { Knex } from 'knex';
import { bearer, hashApiKey } from './auth';
import { PostgresRateLimitStore } from './rateLimitStore';

/**
 * A one-minute window per API key (by its hash, so the key itself is never held here), or per
 * client IP without one. Counted in PostgreSQL: the limit holds across API replicas.
 */
export function rateLimitPerKey(db: Knex, limitPerMinute: number) {
  return rateLimit({
    windowMs: 60_000,
    store: new PostgresRateLimitStore(db),
    limit: limitPerMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (req: Request) => {
      const key = bearer(req);
      return key ? `key:${hashApiKey(key)}` : `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
    },
    handler: (_req: Request, res: Response) => {
      // Retry-After is already set by express-rate-limit (seconds until the window resets).
      res.status(429).json({
        error: 'rate_limited',
        message: `too many requests: at most ${limitPerMinute} per minute per API key; retry after ${res.getHeader('Retry-After') ?? 60} s`,
      });
    },
  });
}
