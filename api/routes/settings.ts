import { Router } from 'express';
import type { Knex } from 'knex';
import type { SecretBox } from '../../lib/secretBox';
import { settingsUpdateSchema } from '../schemas';
import { parse } from '../validation';

/** Settings as the tenant sees them: the webhook secret is never shown, only whether one is set. */
function publicSettings(settings: Record<string, unknown>) {
  const { webhookSecretSealed, ...rest } = settings;
  return { ...rest, webhookSecretSet: Boolean(webhookSecretSealed) };
}

export function settingsRoutes(db: Knex, secrets: SecretBox): Router {
  const router = Router();

  router.get('/v1/settings', async (req, res) => {
    const tenant = await db('tenants').where({ id: req.tenantId! }).first('settings');
    res.json(publicSettings(tenant.settings));
  });

  router.put('/v1/settings', async (req, res) => {
    const { webhookSecret, ...body } = parse(settingsUpdateSchema, req.body);
    const patch: Record<string, unknown> = { ...body };
    if (webhookSecret) patch.webhookSecretSealed = secrets.seal(webhookSecret);
    const [row] = await db('tenants')
      .where({ id: req.tenantId! })
      .update({ settings: db.raw('settings || ?::jsonb', [JSON.stringify(patch)]) })
      .returning('settings');
    res.json(publicSettings(row.settings));
  });

  return router;
}
