import type { NextFunction, Request, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import type { Knex } from 'knex';
import { bearer } from './auth';
import { PostgresRateLimitStore } from './rateLimitStore';
import { HttpError } from './validation';

/**
 * Request budgets per minute, counted in PostgreSQL (the limits hold across API replicas), in cost
 * units rather than requests: an availability search or a resync costs more than a read.
 *
 * - A tenant's budget (after its key is checked): every key of the tenant draws on it, so neither
 *   a second key nor another tenant's load changes what one tenant may spend.
 * - One budget per source address (the client IP as `TRUST_PROXY` lets Express read it) for all
 *   that comes without a tenant key: the connect page, OAuth callbacks, the codec and its login,
 *   provider webhooks, published feeds, and every rejected key (a made-up bearer gets no budget
 *   of its own, so guessing keys costs the guesser's address, not a database row per guess).
 *
 * Beyond a budget: 429 with Retry-After (seconds). Push notifications answered so are not lost:
 * providers retry them later, and busy import polls besides.
 */

export interface RateLimits {
  /** Cost units per minute per tenant. */
  tenantPerMinute: number;
  /** Cost units per minute per source address without a tenant key. */
  unauthenticatedPerMinute: number;
}

const WINDOW_MS = 60_000;

/** What a request costs, by route: the expensive ones (CPU, many rows, workflows started) more than a read. */
const COSTS: Array<[method: string, path: RegExp, cost: number]> = [
  // Posts without a tenant key that do little: one indexed lookup, a page.
  ['POST', /^\/(webhooks|codec|connect)\//, 1],
  ['POST', /^\/v1\/availability$/, 10],
  ['POST', /^\/v1\/staff\/[^/]+\/availability\/check$/, 3],
  ['GET', /^\/v1\/staff\/[^/]+\/busy$/, 5],
  ['GET', /^\/feeds\/[^/]+$/, 5],
  ['POST', /^\/v1\/staff\/[^/]+\/feeds$/, 5],
  ['POST', /^\/v1\/appointments\/[^/]+\/resync$/, 10],
  ['PUT', /^\/v1\/links\/[^/]+\/import$/, 20],
  ['POST', /^\/v1\/links\/[^/]+\/reconcile$/, 20],
  ['POST', /^\/v1\/sync-failures\/replay$/, 20],
  ['PUT', /^\/v1\/settings$/, 20],
];

export function requestCost(req: Pick<Request, 'method' | 'originalUrl'>): number {
  // The whole path: under app.use('/v1', …) req.path has lost its mount point.
  const path = req.originalUrl.split('?')[0]!;
  const found = COSTS.find(([method, pattern]) => method === req.method && pattern.test(path));
  if (found) return found[2];
  return req.method === 'GET' || req.method === 'HEAD' ? 1 : 2;
}

/** The source address's bucket: IPv6 by its /56, as express-rate-limit keys it (one host has many). */
function sourceBucket(req: Request): string {
  return `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
}

export class RateLimiter {
  private readonly store: PostgresRateLimitStore;

  constructor(
    db: Knex,
    private readonly limits: RateLimits,
  ) {
    this.store = new PostgresRateLimitStore(db, WINDOW_MS);
  }

  /**
   * Charges the source address for requests that carry no tenant key. Requests to /v1 with a
   * bearer are the tenant budget's (or, if the key is refused, `rejectedKey`'s).
   */
  unauthenticated() {
    return async (req: Request, res: Response, next: NextFunction) => {
      if (req.path === '/healthz' || req.path === '/metrics') return next();
      if (req.path.startsWith('/v1/') && bearer(req)) return next();
      await this.charge(res, sourceBucket(req), requestCost(req), this.limits.unauthenticatedPerMinute, 'address');
      next();
    };
  }

  /** After tenant auth: the tenant's budget. */
  tenant() {
    return async (req: Request, res: Response, next: NextFunction) => {
      await this.charge(res, `tenant:${req.tenantId!}`, requestCost(req), this.limits.tenantPerMinute, 'tenant');
      next();
    };
  }

  /** A refused key (tenant or admin) is charged to its source address: 429 once that is spent, else the 401. */
  async rejectedKey(req: Request, res: Response): Promise<void> {
    await this.charge(res, sourceBucket(req), 1, this.limits.unauthenticatedPerMinute, 'address');
  }

  private async charge(res: Response, bucket: string, cost: number, limit: number, per: string): Promise<void> {
    const { totalHits, resetTime } = await this.store.add(bucket, cost, limit);
    const resetSeconds = Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000));
    // IETF draft-7 RateLimit headers, as express-rate-limit wrote them before.
    res.setHeader('RateLimit-Policy', `${limit};w=${WINDOW_MS / 1000}`);
    res.setHeader('RateLimit', `limit=${limit}, remaining=${Math.max(0, limit - totalHits)}, reset=${resetSeconds}`);
    if (totalHits > limit) {
      res.setHeader('Retry-After', String(resetSeconds));
      throw new HttpError(
        429,
        'rate_limited',
        `too many requests: at most ${limit} cost units per minute per ${per} (this request costs ${cost}); retry after ${resetSeconds} s`,
      );
    }
  }
}
