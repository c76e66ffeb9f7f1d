import type { SyncPolicy } from './types';

/** Every setting calsync reads from the environment, in one place, with development defaults. */
export interface Config {
  databaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
  apiPort: number;
  publicApiUrl: string;
  adminApiKey: string;
  /** `keyId:base64key` pairs; the first one encrypts, all of them decrypt (rotation). */
  tokenKeys: string;
  google: { apiRootUrl: string; tokenUrl: string; clientId: string; clientSecret: string };
  sync: SyncPolicy;
  logLevel: string;
}

function num(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new Error(`expected a number, got "${value}"`);
  return parsed;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const apiPort = num(env.API_PORT, 3000);
  return {
    databaseUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/calsync',
    temporalAddress: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    temporalNamespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.CALSYNC_TASK_QUEUE ?? 'calsync',
    apiPort,
    publicApiUrl: env.PUBLIC_API_URL ?? `http://127.0.0.1:${apiPort}`,
    adminApiKey: env.CALSYNC_ADMIN_KEY ?? '',
    tokenKeys: env.CALSYNC_TOKEN_KEYS ?? '',
    google: {
      apiRootUrl: env.GOOGLE_API_ROOT_URL ?? 'https://www.googleapis.com/',
      tokenUrl: env.GOOGLE_TOKEN_URL ?? 'https://oauth2.googleapis.com/token',
      clientId: env.GOOGLE_CLIENT_ID ?? 'calsync-dev',
      clientSecret: env.GOOGLE_CLIENT_SECRET ?? 'calsync-dev-secret',
    },
    sync: {
      coalesceMs: num(env.SYNC_COALESCE_MS, 300),
      coalesceMaxMs: num(env.SYNC_COALESCE_MAX_MS, 2000),
      closeAfterEndMs: num(env.SYNC_CLOSE_AFTER_END_MS, 24 * 3600 * 1000),
      activityMaxAttempts: num(env.SYNC_ACTIVITY_MAX_ATTEMPTS, 10),
      activityInitialRetryMs: num(env.SYNC_ACTIVITY_INITIAL_RETRY_MS, 500),
      activityMaxRetryMs: num(env.SYNC_ACTIVITY_MAX_RETRY_MS, 60000),
      activityTimeoutMs: num(env.SYNC_ACTIVITY_TIMEOUT_MS, 30000),
      continueAsNewAfterEvents: num(env.SYNC_CONTINUE_AS_NEW_EVENTS, 4000),
    },
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}
