import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { Config } from '../lib/config';
import { redactUrl, type Logger } from '../lib/logger';
import { PayloadEncryptionCodec } from '../lib/payloadCodec';
import { acceptRequestId, requestContext } from '../lib/requestContext';
import type { SecretBox } from '../lib/secretBox';
import { AppointmentService } from './appointmentService';
import { ApiKeyCache } from './apiKeyCache';
import { requireAdmin, requireTenant } from './auth';
import { createApiMetrics, metricsHandler } from './metrics';
import { openApiDocument } from './openapi';
import { RateLimiter } from './rateLimit';
import { apiKeyRoutes } from './routes/apiKeys';
import { apiReferenceRoutes } from './routes/apiReference';
import { adminRoutes } from './routes/admin';
import { codecRoutes } from './routes/codec';
import { connectPageRoutes } from './routes/connectPage';
import { appointmentRoutes } from './routes/appointments';
import { availabilityRoutes } from './routes/availability';
import { BusyReads } from './busyReads';
import { importRoutes, importWebhookRoutes } from './routes/busyImport';
import { failureRoutes } from './routes/failures';
import { linkRoutes } from './routes/links';
import { reconcileRoutes } from './routes/reconcile';
import { feedRoutes } from './routes/feeds';
import { credentialsApiRoutes } from './routes/connectCredentials';
import { oauthRoutes } from './routes/oauth';
import { settingsRoutes } from './routes/settings';
import { staffRoutes } from './routes/staff';
import { teamCalendarRoutes } from './routes/teamCalendars';
import { HttpError } from './validation';
import { providerRegistry } from '../providers/registry';

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
  // Which proxies' X-Forwarded-* headers to believe is the operator's call, never a default.
  app.set('trust proxy', config.trustProxy);
  // A JSON API: nothing may be framed, run or loaded from its answers.
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    }),
  );
  app.use((req, res, next) => {
    req.requestId = acceptRequestId(req.headers['x-request-id']);
    res.setHeader('X-Request-Id', req.requestId);
    next();
  });
  app.use(
    pinoHttp({
      logger,
      genReqId: (req) => (req as Request).requestId!,
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
      serializers: {
        // No secrets that travel in URLs (feed tokens, OAuth codes); headers are redacted by the logger.
        req: (req: { url: string; query?: unknown; params?: unknown }) => {
          const url = loggableUrl(req.url);
          return url === req.url ? req : { ...req, url, query: undefined, params: undefined };
        },
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  const metrics = createApiMetrics(db);
  app.use(metrics.observe);
  const limiter = new RateLimiter(db, {
    tenantPerMinute: config.apiRateLimitPerMinute,
    unauthenticatedPerMinute: config.apiUnauthenticatedRateLimitPerMinute,
  });
  // Before the body is read: a caller over its budget costs one upsert, nothing more.
  app.use(limiter.unauthenticated());
  app.use(express.json({ limit: '256kb' }));
  // After the body is read (its stream events would lose the context): the request id for code deep in the call chain.
  app.use((req, _res, next) => requestContext.run({ requestId: req.requestId! }, next));

  app.get('/healthz', async (_req, res) => {
    const checks = await Promise.allSettled([db.raw('select 1'), temporal.workflowService.getSystemInfo({})]);
    const [database, temporalHealth] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : 'down'));
    const ok = database === 'ok' && temporalHealth === 'ok';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', database, temporal: temporalHealth });
  });
  // Built once: the same schemas make the same document.
  const openApi = openApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.use(apiReferenceRoutes());
  app.get('/metrics', metricsHandler(metrics.registry, config.metricsToken));

  // Temporal UI's codec endpoint: admin key or codec session, never a tenant key.
  app.use(
    codecRoutes({
      codec: new PayloadEncryptionCodec(config.payloadKeys, config.acceptPlaintextPayloads),
      adminKeys: config.adminApiKeys,
      allowedOrigins: config.temporalUiOrigins,
    }),
  );

  const providers = providerRegistry(config);
  const feeds = feedRoutes(db, config.publicApiUrl);
  app.use(feeds.published);
  // Provider push notifications for busy-time import: no API key, each carries its channel's secret.
  app.use(importWebhookRoutes(db, temporal, logger, providers));

  const rejectedKey = (req: Request, res: Response) => limiter.rejectedKey(req, res);
  app.use('/v1/admin', requireAdmin(config.adminApiKeys, rejectedKey));
  app.use(adminRoutes(db));

  const service = new AppointmentService(db, temporal, config.taskQueue, config.sync);
  const keys = new ApiKeyCache(config.apiKeyCacheMs);
  app.use('/v1', requireTenant(db, keys, rejectedKey));
  app.use('/v1', limiter.tenant());
  app.use(apiKeyRoutes(db, keys));
  app.use(appointmentRoutes(service));
  app.use(failureRoutes(db, temporal, config.taskQueue, providers));
  const linkDeps = {
    db,
    secrets: deps.secrets,
    temporal,
    taskQueue: config.taskQueue,
    reconcile: config.reconcile,
    providers,
  };
  // POST /v1/staff/:id/links/<provider> by username and password (CalDAV); others fall through to staffRoutes.
  app.use(credentialsApiRoutes(linkDeps, config, logger));
  app.use(staffRoutes(linkDeps));
  // POST /v1/staff/:id/links (tenant key) and GET /oauth/callback/:provider (the browser: no key).
  app.use(oauthRoutes(linkDeps, config, logger));
  app.use(settingsRoutes(db, deps.secrets, temporal, config.taskQueue, { allowedHosts: config.outboundAllowedHosts }));
  app.use(availabilityRoutes(db, new BusyReads(config.busyReads)));
  app.use(importRoutes(db, temporal, providers));
  app.use(teamCalendarRoutes(db, temporal, config.taskQueue, providers));
  app.use(linkRoutes(db, temporal, config.taskQueue));
  app.use(reconcileRoutes(db, temporal, config.taskQueue, config.reconcile));
  // POST /v1/connect-sessions (tenant key) and the /connect page (its own session cookie).
  app.use(connectPageRoutes(linkDeps, config, logger));
  app.use(feeds.managed);

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found', message: 'no such route' });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) {
      if (err.headers) res.set(err.headers);
      res.status(err.status).json({ error: err.code, message: err.message, details: err.details });
      return;
    }
    const status = (err as { status?: number; type?: string }).status;
    if (status && status >= 400 && status < 500) {
      // body-parser's own errors: malformed JSON, too large, wrong content type.
      const message = (err as Error).message;
      res.status(status).json({
        error: 'invalid_request',
        message: `body: ${message}`,
        details: { issues: [{ field: 'body', message }] },
      });
      return;
    }
    logger.error({ err, method: req.method, path: req.path, requestId: req.requestId }, 'request failed');
    res.status(503).json({ error: 'unavailable', message: 'the request could not be completed; retry it' });
  });
  return app;
}

/** A URL fit for logs: subscription feed tokens and OAuth callback parameters are secrets. */
export function loggableUrl(url: string): string {
  if (url.startsWith('/feeds/')) return '/feeds/[redacted].ics';
  return redactUrl(url);
}
