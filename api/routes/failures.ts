import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { decodeCursor, listFailures } from '../../lib/failures';
import { replayProgress, startReplay } from '../../workflows/replayFailures/client';
import { failureListQuerySchema, idSchema, replayBodySchema } from '../schemas';
import { HttpError, param, parse } from '../validation';

/** Support's view of what failed, and batch replays of it. */
export function failureRoutes(db: Knex, temporal: Client, taskQueue: string): Router {
  const router = Router();

  router.get('/v1/sync-failures', async (req, res) => {
    const { limit, cursor, ...filter } = parse(failureListQuerySchema, req.query, 'query');
    if (cursor && !decodeCursor(cursor))
      throw new HttpError(400, 'invalid_request', 'query.cursor: is not a cursor this API gave out');
    res.json(await listFailures(db, req.tenantId!, filter, { limit, cursor }));
  });

  router.post('/v1/sync-failures/replay', async (req, res) => {
    const { ratePerSecond, ...filter } = parse(replayBodySchema, req.body);
    const replayId = randomUUID();
    const workflowId = await startReplay(temporal, taskQueue, replayId, {
      tenantId: req.tenantId!,
      filter,
      ratePerSecond,
    });
    res.status(202).json({ replayId, workflowId, progressUrl: `/v1/sync-failures/replays/${replayId}` });
  });

  router.get('/v1/sync-failures/replays/:replayId', async (req, res) => {
    const replayId = param(req, 'replayId', idSchema);
    const progress = await replayProgress(temporal, req.tenantId!, replayId);
    if (!progress) throw new HttpError(404, 'not_found', `replay ${replayId} not found`);
    res.json({ replayId, ...progress });
  });

  return router;
}
