import { idForm } from './itemIds';
import { createServer } from 'node:https';
import type { Express } from 'express';
import { emulatorApp, emulatorErrors, listen } from '../common/server';
import { controlRoutes } from './controlRoutes';
import { GraphError, injected, sendGraphError } from './errors';
import { graphRoutes } from './graphRoutes';
import { oauthRoutes } from './oauthRoutes';
import { pushRoutes } from './pushRoutes';
import { EmulatorState, type MicrosoftEmulatorOptions } from './state';
import type { MicrosoftStore } from './store';

export type { MicrosoftEmulatorOptions } from './state';
export { ensureEmulatorCertificate, extraCaCerts, trustCaInThisProcess, type EmulatorCertificate } from './certificate';

export interface RunningMicrosoftEmulator {
  port: number;
  /** `https://127.0.0.1:<port>`: the Graph base URL (add `/v1.0`) and the login host. */
  url: string;
  close(): Promise<void>;
}

export interface MicrosoftEmulator {
  app: Express;
  store: MicrosoftStore;
  state: EmulatorState;
  listen(port: number, host?: string): Promise<RunningMicrosoftEmulator>;
}

/**
 * Microsoft Graph (calendar) and the identity platform's token endpoint, over HTTPS: the real
 * `@microsoft/microsoft-graph-client` only sends its bearer token to https hosts.
 * `tls` is the server certificate (see ensureEmulatorCertificate).
 */
export function createMicrosoftEmulator(
  options: MicrosoftEmulatorOptions & { tls: { cert: string; key: string } },
): MicrosoftEmulator {
  const state = new EmulatorState(options);
  const app = emulatorApp('4mb');
  app.disable('etag');

  app.use('/v1.0', idForm(state.ids));
  app.use('/v1.0', pushRoutes(state));
  app.use('/v1.0', graphRoutes(state));
  app.use('/_emulator', controlRoutes(state));
  app.use(oauthRoutes(state));
  app.use((req, res) => sendGraphError(res, new GraphError(400, 'BadRequest', `Invalid version or path: ${req.path}`)));
  app.use(
    emulatorErrors(
      'microsoft-emulator',
      (res) =>
        sendGraphError(
          res,
          new GraphError(
            400,
            'BadRequest',
            'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
          ),
        ),
      (res) => sendGraphError(res, injected(500, 0)),
    ),
  );

  return {
    app,
    store: state.store,
    state,
    async listen(port: number, host = '127.0.0.1'): Promise<RunningMicrosoftEmulator> {
      const running = await listen(createServer({ cert: options.tls.cert, key: options.tls.key }, app), port, host);
      return { ...running, url: `https://${host.includes(':') ? `[${host}]` : host}:${running.port}` };
    },
  };
}
