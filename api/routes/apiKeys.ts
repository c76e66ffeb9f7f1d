import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Knex } from 'knex';
import type { ApiKeyCache } from '../apiKeyCache';
import { hashApiKey, newApiKey } from '../auth';
import { idSchema } from '../schemas';
import { HttpError, param } from '../validation';

/** What a tenant may see of a key: never the key, never its hash. */
function publicKey(row: any, currentKeyId: string | undefined) {
  return {
    id: row.id,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at ?? null,
    revokedAt: row.revoked_at ?? null,
    current: row.id === currentKeyId,
  };
}

/** Tenant self-service key rotation: issue a new key, move the client over, revoke the old one. */
export function apiKeyRoutes(db: Knex, keys: ApiKeyCache): Router {
  const router = Router();

  router.get('/v1/api-keys', async (req, res) => {
    const rows = await db('api_keys')
      .where({ tenant_id: req.tenantId! })
      .orderBy('created_at')
      .select('id', 'created_at', 'last_used_at', 'revoked_at');
    res.json({ apiKeys: rows.map((r) => publicKey(r, req.apiKeyId)) });
  });

  router.post('/v1/api-keys', async (req, res) => {
    const apiKey = newApiKey();
    const [row] = await db('api_keys')
      .insert({ id: randomUUID(), tenant_id: req.tenantId!, key_hash: hashApiKey(apiKey) })
      .returning(['id', 'created_at', 'last_used_at', 'revoked_at']);
    res.status(201).json({ ...publicKey(row, req.apiKeyId), apiKey });
  });

  router.delete('/v1/api-keys/:id', async (req, res) => {
    const id = param(req, 'id', idSchema);
    const row = await db.transaction(async (trx) => {
      // Lock the tenant's active keys: two concurrent revocations cannot leave it with none.
      const active = (await trx('api_keys')
        .where({ tenant_id: req.tenantId! })
        .whereNull('revoked_at')
        .forUpdate()
        .pluck('id')) as string[];
      const key = await trx('api_keys')
        .where({ tenant_id: req.tenantId!, id })
        .first('id', 'created_at', 'last_used_at', 'revoked_at');
      if (!key) throw new HttpError(404, 'not_found', `API key ${id} not found`);
      if (key.revoked_at) return key; // revoking twice is harmless
      if (active.length <= 1)
        throw new HttpError(
          409,
          'last_key',
          "this is the tenant's last active API key; issue a new one before revoking it",
        );
      const [revoked] = await trx('api_keys')
        .where({ id })
        .update({ revoked_at: trx.fn.now() })
        .returning(['id', 'created_at', 'last_used_at', 'revoked_at']);
      return revoked;
    });
    // Committed: this process refuses the key from now on (others within API_KEY_CACHE_MS).
    keys.forget(row.id);
    res.json(publicKey(row, req.apiKeyId));
  });

  return router;
}
