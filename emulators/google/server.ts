import { createServer } from 'node:http';
import type { Express } from 'express';
import { emulatorApp, emulatorErrors, listen } from '../common/server';
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
  const app = emulatorApp('1mb');

  app.use('/calendar/v3', calendarRoutes(state));
  app.use('/_emulator', controlRoutes(state));
  app.use(oauthRoutes(state));
  app.use((_req, res) => sendGoogleError(res, notFound()));
  app.use(
    emulatorErrors(
      'google-emulator',
      (res) => sendGoogleError(res, new GoogleError(400, 'parseError', 'Parse Error')),
      (res) => sendGoogleError(res, backendError(500)),
    ),
  );

  return {
    app,
    store: state.store,
    state,
    listen: (port: number, host = '127.0.0.1') => listen(createServer(app), port, host),
  };
}
