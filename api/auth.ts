import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Knex } from 'knex';
import { HttpError } from './validation';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function newApiKey(): string {
  return `csk_${randomBytes(24).toString('base64url')}`;
}

function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1];
}

declare module 'express-serve-static-core' {
  interface Request {
    tenantId?: string;
  }
}

/** Tenant API keys: only their SHA-256 is stored, so a database leak does not leak keys. */
export function requireTenant(db: Knex) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const key = bearer(req);
    if (!key) throw new HttpError(401, 'unauthorized', 'missing Authorization: Bearer <api key>');
    const row = await db('api_keys').where({ key_hash: hashApiKey(key) }).whereNull('revoked_at').first('tenant_id');
    if (!row) throw new HttpError(401, 'unauthorized', 'invalid API key');
    req.tenantId = row.tenant_id;
    next();
  };
}

export function requireAdmin(adminKey: string) {
  const expected = createHash('sha256').update(adminKey).digest();
  return (req: Request, _res: Response, next: NextFunction) => {
    const key = bearer(req);
    const given = createHash('sha256').update(key ?? '').digest();
    if (!adminKey || !key || !timingSafeEqual(given, expected)) throw new HttpError(401, 'unauthorized', 'admin key required');
    next();
  };
}
