import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Knex } from 'knex';
import { decodeCursor, listFailures } from '../../lib/failures';
import { CalsyncState, CalsyncTenant } from '../../lib/searchAttributes';
import { replayProgressQuery, replayWorkflowId } from '../../workflows/replayFailures/contract';
import type { replayFailures } from '../../workflows/replayFailures/workflow';
import { failureListQuerySchema, idSchema, replayBodySchema } from '../schemas';
import { HttpError, param, parse } from '../validation';

/** Support's view of what failed, and batch replays of it. */
export function failureRoutes(db: Knex, temporal: Client, taskQueue: string): Router {
  const router = Router();

  router.get('/v1/sync-failures', async (req, res) => {
    const { limit, cursor, ...filter } = parse(failureListQuerySchema, req.query, 'query');
    if (cursor && !decodeCursor(cursor)) throw new HttpError(400, 'invalid_request', 'query.cursor: is not a cursor this API gave out');
    res.json(await listFailures(db, req.tenantId!, filter, { limit, cursor }));
  });

  router.post('/v1/sync-failures/replay', async (req, res) => {
    const { ratePerSecond, ...filter } = parse(replayBodySchema, req.body);
    const replayId = randomUUID();
    const workflowId = replayWorkflowId(req.tenantId!, replayId);
    await temporal.workflow.start<typeof replayFailures>('replayFailures', {
      workflowId,
      taskQueue,
      args: [{ tenantId: req.tenantId!, filter, ratePerSecond }],
      staticSummary: `replay of failed syncs of tenant ${req.tenantId}`,
      typedSearchAttributes: [
        { key: CalsyncTenant, value: req.tenantId! },
        { key: CalsyncState, value: 'pending' },
      ],
    });
    res.status(202).json({ replayId, workflowId, progressUrl: `/v1/sync-failures/replays/${replayId}` });
  });

  router.get('/v1/sync-failures/replays/:replayId', async (req, res) => {
    const replayId = param(req, 'replayId', idSchema);
    const handle = temporal.workflow.getHandle(replayWorkflowId(req.tenantId!, replayId));
    try {
      const description = await handle.describe();
      const progress = description.status.name === 'COMPLETED' ? await handle.result() : await handle.query(replayProgressQuery);
      res.json({ replayId, ...progress });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new HttpError(404, 'not_found', `replay ${replayId} not found`);
      throw err;
    }
  });

  return router;
}
