import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Knex } from 'knex';
import type { ApiKeyCache } from './apiKeyCache';
import { HttpError } from './validation';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function newApiKey(): string {
  return `csk_${randomBytes(24).toString('base64url')}`;
}

export function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1];
}

declare module 'express-serve-static-core' {
  interface Request {
    tenantId?: string;
    /** The id of the tenant API key that authenticated the request. */
    apiKeyId?: string;
    requestId?: string;
  }
}

/** What is done with a request whose key was refused, before its 401 (api/rateLimit.ts: charge its address). */
export type OnRejectedKey = (req: Request, res: Response) => Promise<void>;

/**
 * Tenant API keys: only their SHA-256 is stored, so a database leak does not leak keys. A key found
 * is trusted for a few seconds (api/apiKeyCache.ts): revoked here, it is refused at once; revoked
 * through another API process, within API_KEY_CACHE_MS.
 */
export function requireTenant(db: Knex, keys: ApiKeyCache, onRejected: OnRejectedKey = async () => undefined) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = bearer(req);
    // Without a key the request was charged to its address already (api/rateLimit.ts).
    if (!key) throw new HttpError(401, 'unauthorized', 'missing Authorization: Bearer <api key>');
    const hash = hashApiKey(key);
    const found = await keys.get(hash, async () => {
      const row = await db('api_keys')
        .where({ key_hash: hash })
        .whereNull('revoked_at')
        .first('id', 'tenant_id', 'last_used_at');
      return row
        ? {
            id: row.id,
            tenantId: row.tenant_id,
            lastUsedMs: row.last_used_at ? new Date(row.last_used_at).getTime() : null,
          }
        : undefined;
    });
    if (!found) {
      await onRejected(req, res);
      throw new HttpError(401, 'unauthorized', 'invalid API key');
    }
    req.tenantId = found.tenantId;
    req.apiKeyId = found.id;
    if (found.lastUsedMs === null || Date.now() - found.lastUsedMs > LAST_USED_PRECISION_MS) {
      // At most one write per key per minute (per API process), off the request's path: a rotation aid, not an audit log.
      found.lastUsedMs = Date.now();
      void db('api_keys')
        .where({ id: found.id })
        .update({ last_used_at: db.fn.now() })
        .catch(() => undefined);
    }
    next();
  };
}

const LAST_USED_PRECISION_MS = 60_000;

/** Any of the configured admin keys works, so a new key can be rolled out before the old one is removed. */
export function requireAdmin(adminKeys: string[], onRejected: OnRejectedKey = async () => undefined) {
  const expected = adminKeys.filter(Boolean).map((k) => createHash('sha256').update(k).digest());
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = bearer(req);
    const given = createHash('sha256')
      .update(key ?? '')
      .digest();
    // Compare against every key (no early exit), in constant time each.
    const matches = expected.reduce((found, e) => timingSafeEqual(given, e) || found, false);
    if (!key || !matches) {
      if (key) await onRejected(req, res);
      throw new HttpError(401, 'unauthorized', 'admin key required');
    }
    next();
  };
}
