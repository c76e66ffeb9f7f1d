import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { calendarRoutes } from './calendarRoutes';
import { controlRoutes } from './controlRoutes';
import { backendError, GoogleError, notFound, sendGoogleError } from './errors';
import { oauthRoutes } from './oauthRoutes';
import { EmulatorState, type GoogleEmulatorOptions } from './state';
import type { GoogleStore } from './store';

export type { GoogleEmulatorOptions } from './state';

export interface RunningGoogleEmulator {
  port: number;
  close(): Promise<void>;
}

export interface GoogleEmulator {
  app: Express;
  store: GoogleStore;
  state: EmulatorState;
  listen(port: number, host?: string): Promise<RunningGoogleEmulator>;
}

export function createGoogleEmulator(options: GoogleEmulatorOptions = {}): GoogleEmulator {
  const state = new EmulatorState(options);
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '1mb' }));
  app.use(express.urlencoded({ extended: false }));

  app.use('/calendar/v3', calendarRoutes(state));
  app.use('/_emulator', controlRoutes(state));
  app.use(oauthRoutes(state));
  app.use((_req, res) => sendGoogleError(res, notFound()));

  const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    if (res.headersSent) return;
    const type = (err as { type?: unknown } | null)?.type;
    if (type === 'entity.parse.failed') {
      sendGoogleError(res, new GoogleError(400, 'parseError', 'Parse Error'));
      return;
    }
    console.error('google-emulator: unexpected error', err);
    sendGoogleError(res, backendError(500));
  };
  app.use(onError);

  return {
    app,
    store: state.store,
    state,
    listen(port: number, host = '127.0.0.1'): Promise<RunningGoogleEmulator> {
      return new Promise((resolve, reject) => {
        const server = app.listen(port, host, (err?: Error) => {
          if (err) return reject(err);
          resolve({
            port: (server.address() as AddressInfo).port,
            close: () => new Promise<void>((done, fail) => {
              server.close((closeErr) => (closeErr ? fail(closeErr) : done()));
              // Clients keep connections alive; without this close() waits for them.
              server.closeAllConnections();
            }),
          });
        });
        server.on('error', reject);
      });
    },
  };
}
