import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { CLIENT_INVITATION_PROVIDER } from '../../lib/clientInvitations';
import { decodeCursor, listFailures, type FailureFilter } from '../../lib/failures';
import type { ProviderRegistry } from '../../providers/registry';
import { replayProgress, startReplay } from '../../workflows/replayFailures/client';
import { failureListQuerySchema, idSchema, replayBodySchema } from '../schemas';
import { HttpError, param, parse } from '../validation';

/** Support's view of what failed, and batch replays of it. */
export function failureRoutes(db: Knex, temporal: Client, taskQueue: string, providers: ProviderRegistry): Router {
  const router = Router();

  /** A filter by provider names one calsync has (or `email`, the client's invitation): anything else is a 400. */
  function checkProvider(filter: FailureFilter, field: string): void {
    if (
      filter.provider === undefined ||
      filter.provider === CLIENT_INVITATION_PROVIDER ||
      providers.find(filter.provider)
    )
      return;
    const names = [...providers.all().map((p) => p.name), CLIENT_INVITATION_PROVIDER].join(', ');
    throw new HttpError(400, 'invalid_request', `${field}: must be one of ${names}`, {
      issues: [{ field, message: `must be one of ${names}` }],
    });
  }

  router.get('/v1/sync-failures', async (req, res) => {
    const { limit, cursor, ...filter } = parse(failureListQuerySchema, req.query, 'query');
    checkProvider(filter, 'query.provider');
    if (cursor && !decodeCursor(cursor))
      throw new HttpError(400, 'invalid_request', 'query.cursor: is not a cursor this API gave out');
    res.json(await listFailures(db, req.tenantId!, filter, { limit, cursor }));
  });

  router.post('/v1/sync-failures/replay', async (req, res) => {
    const { ratePerSecond, ...filter } = parse(replayBodySchema, req.body);
    checkProvider(filter, 'provider');
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
