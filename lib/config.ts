import { loadImportConfig, type ImportConfig } from './importConfig';
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
  /** Every admin key that is accepted: `CALSYNC_ADMIN_KEYS` (comma-separated) plus `CALSYNC_ADMIN_KEY`, so keys rotate without downtime. */
  adminApiKeys: string[];
  /** Requests per minute per API key (or per IP without one). */
  apiRateLimitPerMinute: number;
  /** When set, `GET /metrics` on the API needs it as a bearer token. */
  metricsToken: string;
  /** Where a worker serves Prometheus metrics; 0 disables. */
  workerMetricsPort: number;
  /** `keyId:base64key` pairs; the first one encrypts, all of them decrypt (rotation). */
  tokenKeys: string;
  /** Same format; encrypt Temporal payloads (CALSYNC_PAYLOAD_KEYS, else the token keys). */
  payloadKeys: string;
  /** Origins of Temporal UI allowed to call the codec endpoint (CORS). */
  temporalUiOrigins: string[];
  google: { apiRootUrl: string; tokenUrl: string; revokeUrl: string; authorizeUrl: string; clientId: string; clientSecret: string };
  /** Graph base URL (without `/v1.0`) and the identity platform's v2.0 token endpoint. */
  microsoft: { graphBaseUrl: string; tokenUrl: string; authorizeUrl: string; clientId: string; clientSecret: string };
  sync: SyncPolicy;
  /** Busy-time import from staff calendars (lib/importConfig.ts). */
  import: ImportConfig;
  /** Each link's periodic pass over calsync's own events (workflows/reconcileLink/). */
  reconcile: ReconcilePolicy;
  /** SMTP server that sends client invitations, and the default sender. */
  mail: { host: string; port: number; secure: boolean; user: string; pass: string; from: string };
  logLevel: string;
  /** A link's workflow refreshes its access token this long before it expires (and so notices a revoked grant without a write). */
  linkTokenRefreshAheadMs: number;
  /** Requests per minute calsync starts per remote account, across all workers (Google allows 600 per user; Graph 10,000 per 10 minutes per mailbox). */
  accountPacing: {
    google: { perMinute: number; burst: number };
    microsoft: { perMinute: number; burst: number };
  };
}

export interface ReconcilePolicy {
  /** Time between two passes over one link's calendar. */
  intervalMs: number;
  /** Events listed per provider call; also the most restores one page asks for. */
  pageSize: number;
  /** Pause between two pages: keeps a pass far below the providers' per-user quotas. */
  pagePauseMs: number;
  /** An event changed this recently is never judged an orphan: its write may still be on its way to PostgreSQL. */
  orphanGraceMs: number;
  /** History length at which a link's reconciliation workflow continues as new. */
  continueAsNewAfterEvents: number;
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
    adminApiKeys: [...new Set([...(env.CALSYNC_ADMIN_KEYS ?? '').split(','), env.CALSYNC_ADMIN_KEY ?? ''].map((k) => k.trim()).filter(Boolean))],
    apiRateLimitPerMinute: num(env.API_RATE_LIMIT_PER_MINUTE, 6000),
    metricsToken: env.METRICS_TOKEN ?? '',
    workerMetricsPort: num(env.WORKER_METRICS_PORT, 9464),
    tokenKeys: env.CALSYNC_TOKEN_KEYS ?? '',
    payloadKeys: env.CALSYNC_PAYLOAD_KEYS || env.CALSYNC_TOKEN_KEYS || '',
    temporalUiOrigins: (env.TEMPORAL_UI_ORIGINS ?? 'http://127.0.0.1:8233,http://localhost:8233').split(',').map((o) => o.trim()).filter(Boolean),
    google: {
      apiRootUrl: env.GOOGLE_API_ROOT_URL ?? 'https://www.googleapis.com/',
      tokenUrl: env.GOOGLE_TOKEN_URL ?? 'https://oauth2.googleapis.com/token',
      // Google (and its emulator) serve /revoke beside /token.
      revokeUrl: env.GOOGLE_REVOKE_URL ?? (env.GOOGLE_TOKEN_URL ?? 'https://oauth2.googleapis.com/token').replace(/\/token$/, '/revoke'),
      authorizeUrl: env.GOOGLE_AUTHORIZE_URL ?? 'https://accounts.google.com/o/oauth2/v2/auth',
      clientId: env.GOOGLE_CLIENT_ID ?? 'calsync-dev',
      clientSecret: env.GOOGLE_CLIENT_SECRET ?? 'calsync-dev-secret',
    },
    microsoft: {
      graphBaseUrl: env.MICROSOFT_GRAPH_BASE_URL ?? 'https://graph.microsoft.com',
      tokenUrl: env.MICROSOFT_TOKEN_URL ?? 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
      authorizeUrl: env.MICROSOFT_AUTHORIZE_URL ?? 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
      clientId: env.MICROSOFT_CLIENT_ID ?? 'calsync-dev',
      clientSecret: env.MICROSOFT_CLIENT_SECRET ?? 'calsync-dev-secret',
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
      failedTargetRetryMs: num(env.SYNC_FAILED_TARGET_RETRY_MS, 10 * 60 * 1000),
    },
    import: loadImportConfig(env, env.PUBLIC_API_URL ?? `http://127.0.0.1:${apiPort}`),
    reconcile: {
      intervalMs: num(env.RECONCILE_INTERVAL_MS, 3600 * 1000),
      pageSize: num(env.RECONCILE_PAGE_SIZE, 100),
      pagePauseMs: num(env.RECONCILE_PAGE_PAUSE_MS, 1000),
      orphanGraceMs: num(env.RECONCILE_ORPHAN_GRACE_MS, 10 * 60 * 1000),
      continueAsNewAfterEvents: num(env.RECONCILE_CONTINUE_AS_NEW_EVENTS, 2000),
    },
    mail: {
      host: env.SMTP_HOST || 'localhost',
      port: num(env.SMTP_PORT, env.SMTP_SECURE === 'true' ? 465 : 587),
      // true: TLS from the first byte (port 465); otherwise STARTTLS whenever the server offers it.
      secure: env.SMTP_SECURE === 'true',
      user: env.SMTP_USER ?? '',
      pass: env.SMTP_PASS ?? '',
      from: env.MAIL_FROM || 'calsync <invitations@calsync.localhost>',
    },
    logLevel: env.LOG_LEVEL ?? 'info',
    linkTokenRefreshAheadMs: num(env.LINK_TOKEN_REFRESH_AHEAD_MS, 5 * 60 * 1000),
    accountPacing: {
      // A burst of 10 keeps any minute at Google under 540 + 10 < 600 requests per user.
      google: { perMinute: num(env.GOOGLE_ACCOUNT_REQUESTS_PER_MINUTE, 540), burst: num(env.GOOGLE_ACCOUNT_BURST, 10) },
      // Outlook allows 4 concurrent requests per mailbox: a burst of 3 never starts a fifth at once.
      microsoft: { perMinute: num(env.MICROSOFT_ACCOUNT_REQUESTS_PER_MINUTE, 900), burst: num(env.MICROSOFT_ACCOUNT_BURST, 3) },
    },
  };
}
