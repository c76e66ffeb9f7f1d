import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type Response } from 'express';

export function emulatorApp(jsonLimit: string): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: jsonLimit }));
  app.use(express.urlencoded({ extended: false }));
  return app;
}

/** Malformed JSON gets the provider's own parse error; anything else is logged and answered 500. */
export function emulatorErrors(
  name: string,
  parseFailed: (res: Response) => void,
  failed: (res: Response) => void,
): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    if (res.headersSent) return;
    if ((err as { type?: unknown } | null)?.type === 'entity.parse.failed') {
      parseFailed(res);
      return;
    }
    console.error(`${name}: unexpected error`, err);
    failed(res);
  };
}

/** Listens and answers the bound port and a close that does not wait for kept-alive clients. */
export function listen(server: Server, port: number, host: string): Promise<{ port: number; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(port, host, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((closeErr) => (closeErr ? fail(closeErr) : done()));
            // Clients keep connections alive; without this close() waits for them.
            server.closeAllConnections();
          }),
      });
    });
  });
}
