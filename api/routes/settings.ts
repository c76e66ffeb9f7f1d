import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { SecretBox } from '../../lib/secretBox';
import { DEFAULT_RESYNC_RATE_PER_SECOND, resolveCrmSettings, resyncScopeOf } from '../../lib/crmSettings';
import {
  settingsResyncProgress,
  settingsResyncRunning,
  startSettingsResync,
} from '../../workflows/settingsResync/client';
import { outboundUrlProblem, type OutboundPolicy } from '../../lib/outbound';
import { settingsUpdateSchema } from '../schemas';
import { HttpError, parse } from '../validation';

/**
 * Settings as the tenant sees them: the webhook secret is never shown, only whether one is set;
 * the CRM model's settings with their defaults (the built-in entity types included).
 */
function publicSettings(settings: Record<string, unknown>) {
  const { webhookSecretSealed, ...rest } = settings;
  return { ...rest, ...resolveCrmSettings(rest), webhookSecretSet: Boolean(webhookSecretSealed) };
}

const RESYNC_PROGRESS_URL = '/v1/settings/resync';

export function settingsRoutes(
  db: Knex,
  secrets: SecretBox,
  temporal: Client,
  taskQueue: string,
  outbound: OutboundPolicy,
): Router {
  const router = Router();

  router.get('/v1/settings', async (req, res) => {
    const tenant = await db('tenants').where({ id: req.tenantId! }).first('settings');
    res.json(publicSettings(tenant.settings));
  });

  router.put('/v1/settings', async (req, res) => {
    const { webhookSecret, ...body } = parse(settingsUpdateSchema, req.body);
    const urlProblem = body.webhookUrl ? outboundUrlProblem(body.webhookUrl, outbound) : undefined;
    if (urlProblem) {
      throw new HttpError(400, 'invalid_request', `webhookUrl: ${urlProblem}`, {
        issues: [{ field: 'webhookUrl', message: urlProblem }],
      });
    }
    const patch: Record<string, unknown> = { ...body };
    if (webhookSecret) patch.webhookSecretSealed = secrets.seal(webhookSecret);
    const { before, after } = await db.transaction(async (trx) => {
      const old = await trx('tenants').where({ id: req.tenantId! }).forUpdate().first('settings');
      const [row] = await trx('tenants')
        .where({ id: req.tenantId! })
        .update({ settings: trx.raw('settings || ?::jsonb', [JSON.stringify(patch)]) })
        .returning('settings');
      return { before: old.settings as Record<string, any>, after: row.settings as Record<string, any> };
    });
    // Existing future appointments follow a change of what their events show, in the background.
    const scope = resyncScopeOf(before, after);
    const resync = scope
      ? await startResync(req.tenantId!, scope, after.resyncRatePerSecond ?? DEFAULT_RESYNC_RATE_PER_SECOND)
      : undefined;
    res.json({ ...publicSettings(after), ...(resync ? { resync } : {}) });
  });

  /** A newer change replaces a re-sync still running; what it had left is then re-synced in full. */
  async function startResync(tenantId: string, scope: { types?: string[] }, ratePerSecond: number) {
    const types = (await settingsResyncRunning(temporal, tenantId)) ? undefined : scope.types;
    await startSettingsResync(temporal, taskQueue, {
      tenantId,
      endsAfter: new Date().toISOString(),
      ratePerSecond,
      ...(types ? { types } : {}),
    });
    return { state: 'running', ...(types ? { types } : {}), progressUrl: RESYNC_PROGRESS_URL };
  }

  router.get(RESYNC_PROGRESS_URL, async (req, res) => {
    const progress = await settingsResyncProgress(temporal, req.tenantId!);
    if (!progress) throw new HttpError(404, 'not_found', 'no settings re-sync has run for this tenant');
    res.json(progress);
  });

  return router;
}
