import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { controlRoutes } from './controlRoutes';
import { GraphError, injected, sendGraphError } from './errors';
import { graphRoutes } from './graphRoutes';
import { oauthRoutes } from './oauthRoutes';
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
export function createMicrosoftEmulator(options: MicrosoftEmulatorOptions & { tls: { cert: string; key: string } }): MicrosoftEmulator {
  const state = new EmulatorState(options);
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(express.json({ limit: '4mb' }));
  app.use(express.urlencoded({ extended: false }));

  app.use('/v1.0', graphRoutes(state));
  app.use('/_emulator', controlRoutes(state));
  app.use(oauthRoutes(state));
  app.use((req, res) => sendGraphError(res, new GraphError(400, 'BadRequest', `Invalid version or path: ${req.path}`)));

  const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    if (res.headersSent) return;
    if ((err as { type?: unknown } | null)?.type === 'entity.parse.failed') {
      sendGraphError(res, new GraphError(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.'));
      return;
    }
    console.error('microsoft-emulator: unexpected error', err);
    sendGraphError(res, injected(500, 0));
  };
  app.use(onError);

  return {
    app,
    store: state.store,
    state,
    listen(port: number, host = '127.0.0.1'): Promise<RunningMicrosoftEmulator> {
      return new Promise((resolve, reject) => {
        const server = createServer({ cert: options.tls.cert, key: options.tls.key }, app);
        server.on('error', reject);
        server.listen(port, host, () => {
          const actual = (server.address() as AddressInfo).port;
          resolve({
            port: actual,
            url: `https://${host.includes(':') ? `[${host}]` : host}:${actual}`,
            close: () => new Promise<void>((done, fail) => {
              server.close((closeErr) => (closeErr ? fail(closeErr) : done()));
              // Clients keep connections alive; without this close() waits for them.
              server.closeAllConnections();
            }),
          });
        });
      });
    },
  };
}
