import path from 'node:path';
import { Router } from 'express';

/** swagger-ui-dist's files, from npm, served by calsync itself: no CDN. */
const SWAGGER_UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const ASSETS: Record<string, string> = {
  'swagger-ui-bundle.js': 'application/javascript',
  'swagger-ui.css': 'text/css',
  'favicon-32x32.png': 'image/png',
};

/** Starts Swagger UI on the document at /openapi.json (a file of our own: the page allows no inline script). */
const INIT_JS = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#reference', deepLinking: true, tryItOutEnabled: false });
});
`;

const PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
  '<title>calsync API reference</title><link rel="icon" href="/docs/assets/favicon-32x32.png"><link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>' +
  '<body><main id="reference"></main><script src="/docs/assets/swagger-ui-bundle.js"></script>' +
  '<script src="/docs/assets/init.js"></script></body></html>';

/**
 * `GET /docs`: the API reference, rendered in the browser by Swagger UI from `GET /openapi.json`,
 * the document generated from the zod schemas the routes validate with.
 */
export function apiReferenceRoutes(): Router {
  const router = Router();
  // Scripts, styles and the document only from calsync itself; Swagger UI sets inline styles and data: images.
  const csp =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

  router.get('/docs', (_req, res) => {
    res.setHeader('Content-Security-Policy', csp);
    res.type('html').send(PAGE);
  });

  router.get('/docs/assets/:file', (req, res, next) => {
    const file = String(req.params.file);
    res.setHeader('Cache-Control', 'public, max-age=3600');
    if (file === 'init.js') {
      res.type('application/javascript').send(INIT_JS);
      return;
    }
    const type = ASSETS[file];
    if (!type) return next();
    res.type(type).sendFile(path.join(SWAGGER_UI_DIR, file));
  });

  return router;
}
