import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Knex } from 'knex';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { bearer } from './auth';

/** The API's Prometheus metrics: request counts and latency by route, and calendar links by health. */
export function createApiMetrics(db: Knex) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'calsync_api_' });
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'calsync_http_requests_total',
    help: 'HTTP requests answered by the API',
    labelNames,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'calsync_http_request_duration_seconds',
    help: 'Time to answer an HTTP request',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'calsync_links',
    help: 'Calendar links by provider and status, read from PostgreSQL at scrape time',
    labelNames: ['provider', 'status'],
    registers: [registry],
    async collect() {
      const rows: { provider: string; status: string; n: string | number }[] = await db('calendar_links')
        .select('provider', 'status')
        .count({ n: '*' })
        .groupBy('provider', 'status');
      this.reset();
      for (const r of rows) this.set({ provider: String(r.provider), status: String(r.status) }, Number(r.n));
    },
  });

  /** Counts every request once it is answered, labelled by route pattern (never the raw path: ids would explode the series). */
  function observe(req: Request, res: Response, next: NextFunction) {
    const stop = latency.startTimer();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      const labels = { method: req.method, route, status: String(res.statusCode) };
      requests.inc(labels);
      stop(labels);
    });
    next();
  }

  return { registry, observe };
}

/** `GET /metrics`: open when no token is configured, otherwise only with `Authorization: Bearer <METRICS_TOKEN>`. */
export function metricsHandler(registry: Registry, token: string) {
  const expected = createHash('sha256').update(token).digest();
  return async (req: Request, res: Response) => {
    if (token) {
      const given = createHash('sha256')
        .update(bearer(req) ?? '')
        .digest();
      if (!timingSafeEqual(given, expected)) {
        res.status(401).json({ error: 'unauthorized', message: 'metrics token required' });
        return;
      }
    } else if (!isLoopback(req.socket.remoteAddress)) {
      // Without a token, only a scraper on this host may read them (the socket's own peer: no forwarded header counts).
      res
        .status(403)
        .json({ error: 'forbidden', message: 'metrics are served to loopback only unless METRICS_TOKEN is set' });
      return;
    }
    res.set('Content-Type', registry.contentType).send(await registry.metrics());
  };
}

function isLoopback(address: string | undefined): boolean {
  return address === '::1' || /^(::ffff:)?127\./.test(address ?? '');
}
