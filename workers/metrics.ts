import http from 'node:http';
import { collectDefaultMetrics } from 'prom-client';
import { workerRegistry } from '../activities/metrics';
import type { Logger } from '../lib/logger';

/**
 * Serves the worker's metrics at `GET /metrics` for Prometheus. A port already taken (another
 * worker on the same host) costs the metrics, never the worker.
 */
export function startMetricsServer(port: number, host: string, logger: Logger): http.Server | undefined {
  if (!port) return undefined;
  collectDefaultMetrics({ register: workerRegistry, prefix: 'calsync_worker_' });
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    workerRegistry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': workerRegistry.contentType }).end(body),
      (err) => {
        logger.error({ err }, 'metrics collection failed');
        res.writeHead(500).end();
      },
    );
  });
  server.on('error', (err) => logger.warn({ err, port }, 'worker metrics server unavailable'));
  server.listen(port, host, () => logger.info({ port }, 'worker metrics listening'));
  server.unref();
  return server;
}
