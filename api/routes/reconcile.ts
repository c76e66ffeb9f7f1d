import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { ReconcilePolicy } from '../../lib/config';
import { requestReconcile } from '../../workflows/reconcileLink/client';
import { passSummary } from '../../lib/reconcileTypes';
import { reconcileWorkflowId } from '../../workflows/reconcileLink/contract';
import { z } from 'zod';
import { HttpError, parse } from '../validation';

export const passesQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(100).default(10) });

/**
 * Reconciliation of calsync's own events in a link's calendar: run a pass now, and read what the
 * last passes found and did. The passes themselves run in the link's reconcileLink workflow.
 */
export function reconcileRoutes(db: Knex, temporal: Client, taskQueue: string, policy: ReconcilePolicy): Router {
  const router = Router();

  async function linkOr404(tenantId: string, linkId: string) {
    const link = await db('calendar_links').where({ tenant_id: tenantId, id: linkId }).first('id', 'status');
    if (!link) throw new HttpError(404, 'not_found', `link ${linkId} not found`);
    return link;
  }

  router.post('/v1/links/:id/reconcile', async (req, res) => {
    const link = await linkOr404(req.tenantId!, String(req.params.id));
    if (link.status === 'disconnecting' || link.status === 'disconnected') {
      throw new HttpError(409, 'link_disconnected', `link ${link.id} is ${link.status}: there is nothing to reconcile`);
    }
    const workflowId = await requestReconcile(temporal, taskQueue, policy, {
      tenantId: req.tenantId!,
      linkId: link.id,
    });
    res.status(202).json({ linkId: link.id, status: 'requested', workflowId });
  });

  router.get('/v1/links/:id/reconcile', async (req, res) => {
    const link = await linkOr404(req.tenantId!, String(req.params.id));
    const { limit } = parse(passesQuerySchema, req.query, 'query');
    const rows = await db('reconcile_passes')
      .where({ tenant_id: req.tenantId!, link_id: link.id })
      .orderBy('started_at', 'desc')
      .limit(limit);
    res.json({
      linkId: link.id,
      workflowId: reconcileWorkflowId(req.tenantId!, link.id),
      intervalMs: policy.intervalMs,
      lastPass: rows[0] ? passSummary(rows[0]) : null,
      recentPasses: rows.map(passSummary),
    });
  });

  return router;
}
