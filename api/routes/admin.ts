import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Knex } from 'knex';
import { hashApiKey, newApiKey } from '../auth';
import { createTenantSchema, tenantIdSchema } from '../schemas';
import { HttpError, param, parse } from '../validation';

/** Operator endpoints (admin key): tenants and their API keys. */
export function adminRoutes(db: Knex): Router {
  const router = Router();

  router.post('/v1/admin/tenants', async (req, res) => {
    const body = parse(createTenantSchema, req.body);
    const apiKey = newApiKey();
    await db.transaction(async (trx) => {
      const inserted = await trx('tenants')
        .insert({ id: body.id, name: body.name, settings: JSON.stringify(body.settings) })
        .onConflict('id')
        .ignore()
        .returning('id');
      if (inserted.length === 0) throw new HttpError(409, 'conflict', `tenant ${body.id} already exists`);
      await trx('api_keys').insert({ id: randomUUID(), tenant_id: body.id, key_hash: hashApiKey(apiKey) });
    });
    res.status(201).json({ tenant: { id: body.id, name: body.name, settings: body.settings }, apiKey });
  });

  router.post('/v1/admin/tenants/:tenantId/api-keys', async (req, res) => {
    const tenantId = param(req, 'tenantId', tenantIdSchema);
    if (!(await db('tenants').where({ id: tenantId }).first('id')))
      throw new HttpError(404, 'not_found', `tenant ${tenantId} not found`);
    const apiKey = newApiKey();
    const id = randomUUID();
    await db('api_keys').insert({ id, tenant_id: tenantId, key_hash: hashApiKey(apiKey) });
    res.status(201).json({ id, apiKey });
  });

  return router;
}
