import express, { type NextFunction, type Request, type Response } from 'express';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { SecretBox } from '../lib/secretBox';
import { AppointmentService } from './appointmentService';
import { requireAdmin, requireTenant } from './auth';
import { openApiDocument } from './openapi';
import { adminRoutes } from './routes/admin';
import { appointmentRoutes } from './routes/appointments';
import { staffRoutes } from './routes/staff';
import { HttpError } from './validation';

export interface ApiDeps {
  db: Knex;
  temporal: Client;
  secrets: SecretBox;
  config: Config;
  logger: Logger;
}

export function createApp(deps: ApiDeps) {
  const { db, temporal, config, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '256kb' }));

  app.get('/healthz', async (_req, res) => {
    const checks = await Promise.allSettled([db.raw('select 1'), temporal.workflowService.getSystemInfo({})]);
    const [database, temporalHealth] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : 'down'));
    const ok = database === 'ok' && temporalHealth === 'ok';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', database, temporal: temporalHealth });
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });

  app.use('/v1/admin', requireAdmin(config.adminApiKey));
  app.use(adminRoutes(db));

  const service = new AppointmentService(db, temporal, config.taskQueue, config.sync);
  app.use('/v1', requireTenant(db));
  app.use(appointmentRoutes(service));
  app.use(staffRoutes(db, deps.secrets));

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found', message: 'no such route' });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) {
      res.status(err.status).json({ error: err.code, message: err.message, details: err.details });
      return;
    }
    const status = (err as { status?: number; type?: string }).status;
    if (status && status >= 400 && status < 500) {
      // body-parser's own errors: malformed JSON, too large, wrong content type.
      res.status(status).json({ error: 'invalid_request', message: `body: ${(err as Error).message}` });
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, 'request failed');
    res.status(503).json({ error: 'unavailable', message: 'the request could not be completed; retry it' });
  });
  return app;
}
