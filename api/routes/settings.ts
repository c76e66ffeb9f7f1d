import { Router } from 'express';
import { WorkflowIdConflictPolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { SecretBox } from '../../lib/secretBox';
import { DEFAULT_RESYNC_RATE_PER_SECOND, resolveCrmSettings, resyncScopeOf } from '../../lib/crmSettings';
import { CalsyncState, CalsyncTenant } from '../../lib/searchAttributes';
import { settingsResyncProgressQuery, settingsResyncWorkflowId } from '../../workflows/settingsResync/contract';
import type { settingsResync } from '../../workflows/settingsResync/workflow';
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

export function settingsRoutes(db: Knex, secrets: SecretBox, temporal: Client, taskQueue: string): Router {
  const router = Router();

  router.get('/v1/settings', async (req, res) => {
    const tenant = await db('tenants').where({ id: req.tenantId! }).first('settings');
    res.json(publicSettings(tenant.settings));
  });

  router.put('/v1/settings', async (req, res) => {
    const { webhookSecret, ...body } = parse(settingsUpdateSchema, req.body);
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
    const resync = scope ? await startResync(req.tenantId!, scope, after.resyncRatePerSecond ?? DEFAULT_RESYNC_RATE_PER_SECOND) : undefined;
    res.json({ ...publicSettings(after), ...(resync ? { resync } : {}) });
  });

  /** A newer change replaces a re-sync still running; what it had left is then re-synced in full. */
  async function startResync(tenantId: string, scope: { types?: string[] }, ratePerSecond: number) {
    const workflowId = settingsResyncWorkflowId(tenantId);
    const running = await temporal.workflow
      .getHandle(workflowId)
      .describe()
      .then((d) => d.status.name === 'RUNNING')
      .catch(() => false);
    const types = running ? undefined : scope.types;
    await temporal.workflow.start<typeof settingsResync>('settingsResync', {
      workflowId,
      taskQueue,
      args: [{ tenantId, endsAfter: new Date().toISOString(), ratePerSecond, ...(types ? { types } : {}) }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
      staticSummary: `settings re-sync of tenant ${tenantId}`,
      typedSearchAttributes: [
        { key: CalsyncTenant, value: tenantId },
        { key: CalsyncState, value: 'pending' },
      ],
    });
    return { state: 'running', ...(types ? { types } : {}), progressUrl: RESYNC_PROGRESS_URL };
  }

  router.get(RESYNC_PROGRESS_URL, async (req, res) => {
    const handle = temporal.workflow.getHandle(settingsResyncWorkflowId(req.tenantId!));
    try {
      const description = await handle.describe();
      const status = description.status.name;
      const progress = status === 'COMPLETED' ? await handle.result() : status === 'RUNNING' ? await handle.query(settingsResyncProgressQuery) : { state: 'stopped' };
      res.json({ startedAt: description.startTime, ...progress });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new HttpError(404, 'not_found', 'no settings re-sync has run for this tenant');
      throw err;
    }
  });

  return router;
}
