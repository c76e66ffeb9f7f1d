import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { httpAnswers, spawnService, waitFor, type Service } from './stack';

/**
 * Temporal UI as its own server (temporalio/ui-server, the same build the CLI embeds), because the
 * dev server's embedded UI takes only a codec endpoint: it cannot be told to send the browser's
 * credentials (`codec.includeCredentials`), and calsync's codec endpoint answers admins only, by the
 * session cookie `/codec/login` sets. With this config the UI decodes payloads with no manual step.
 */
export const TEMPORAL_UI_VERSION = process.env.TEMPORAL_UI_VERSION ?? 'v2.42.1';

export function temporalUiBinary(): string {
  const tools = process.env.CALSYNC_TOOLS_DIR ?? path.join(os.homedir(), '.cache', 'calsync');
  return path.join(tools, `temporal-ui-${TEMPORAL_UI_VERSION}`, 'server');
}

export interface TemporalUiOptions {
  port: number;
  /** The Temporal frontend, host:port. */
  temporalAddress: string;
  /** calsync's codec endpoint, e.g. http://127.0.0.1:3000/codec. */
  codecEndpoint: string;
  /** Where the generated config is written. */
  workDir: string;
  logFile?: string;
}

export async function startTemporalUi(opts: TemporalUiOptions): Promise<Service> {
  const configDir = path.join(opts.workDir, 'config');
  mkdirSync(configDir, { recursive: true });
  // JSON is YAML: the ui-server reads <root>/config/<env>.yaml.
  const config = {
    temporalGrpcAddress: opts.temporalAddress,
    host: '127.0.0.1',
    port: opts.port,
    enableUi: true,
    defaultNamespace: 'default',
    refreshInterval: '0s',
    notifyOnNewVersion: false,
    hideLogs: false,
    // Plain http on loopback: the UI's own CSRF cookie cannot be Secure here.
    cors: { cookieInsecure: true, allowOrigins: [], unsafeAllowAllOrigins: false },
    codec: { endpoint: opts.codecEndpoint, passAccessToken: false, includeCredentials: true },
    auth: { enabled: false, providers: [] },
  };
  writeFileSync(path.join(configDir, 'calsync.yaml'), JSON.stringify(config, null, 2));
  const service = spawnService(
    'temporal-ui',
    temporalUiBinary(),
    ['--root', opts.workDir, '--config', 'config', '--env', 'calsync', 'start'],
    { logFile: opts.logFile },
  );
  await waitFor(`Temporal UI on :${opts.port}`, async () => {
    if (service.child.exitCode !== null) throw new Error(`temporal-ui exited with code ${service.child.exitCode}`);
    return httpAnswers(`http://127.0.0.1:${opts.port}/api/v1/settings`);
  });
  return service;
}
