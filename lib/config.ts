import os from 'node:os';
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
  /** Cost units per minute per tenant (api/rateLimit.ts). */
  apiRateLimitPerMinute: number;
  /** Cost units per minute per source address for everything without a tenant key. */
  apiUnauthenticatedRateLimitPerMinute: number;
  /** How long an API process trusts a key it looked up (api/apiKeyCache.ts): the longest a key revoked elsewhere still works here. 0: no cache. */
  apiKeyCacheMs: number;
  /** When set, `GET /metrics` on the API needs it as a bearer token. */
  metricsToken: string;
  /** Where a worker serves Prometheus metrics; 0 disables. Loopback unless configured: the metrics have no token. */
  workerMetricsPort: number;
  workerMetricsHost: string;
  /**
   * Express's `trust proxy` (`TRUST_PROXY`: a hop count, `loopback`, addresses or subnets): which
   * proxies' X-Forwarded-* headers the API believes (client IPs for rate limits, https for Secure cookies).
   * Unset: none.
   */
  trustProxy: string | number | false;
  /** `keyId:base64key` pairs; the first one encrypts, all of them decrypt (rotation). */
  tokenKeys: string;
  /** Same format; encrypt Temporal payloads (CALSYNC_PAYLOAD_KEYS, else the token keys). */
  payloadKeys: string;
  /** Let unencrypted workflow payloads through the codec: only to read data from before encryption. */
  acceptPlaintextPayloads: boolean;
  /** Origins of Temporal UI allowed to call the codec endpoint (CORS). */
  temporalUiOrigins: string[];
  /**
   * The environment the calendar providers read their own settings from (endpoints, OAuth client,
   * request budget per account): each provider's folder under providers/ documents its variables.
   */
  providerEnv: Readonly<Record<string, string | undefined>>;
  sync: SyncPolicy;
  /** Busy-time import from staff calendars. */
  import: ImportConfig;
  /** Each link's periodic pass over calsync's own events (workflows/reconcileLink/). */
  reconcile: ReconcilePolicy;
  /** SMTP server that sends client invitations, and the default sender. */
  mail: { host: string; port: number; secure: boolean; user: string; pass: string; from: string };
  logLevel: string;
  /**
   * Hosts calsync may call over plain http and on private addresses when a tenant names them (its
   * webhook): for development and tests only. Every other tenant-chosen URL must be https to a public address.
   */
  outboundAllowedHosts: string[];
  /** A link's workflow refreshes its access token this long before it expires (and so notices a revoked grant without a write). */
  linkTokenRefreshAheadMs: number;
  /** Busy time and availability: their CPU work off the API's event loop, bounded and fair (api/busyReads.ts). */
  busyReads: BusyReadsConfig;
}

export interface BusyReadsConfig {
  /** Worker threads that expand series and write busy answers. */
  threads: number;
  /** A read whose series may make more intervals than this goes to a thread; smaller ones stay inline. */
  inlineMaxIntervals: number;
  /** A thread still working on one read after this long is stopped: the read answers 503. */
  workBudgetMs: number;
  /** Each thread's heap (old generation, MB): an answer that needs more answers 503, the API lives on. */
  threadHeapMb: number;
  /** Niceness of the busy threads (0–19), so the event loop wins the CPU when both want it. */
  threadNice: number;
  /** Reads waiting for a thread, all tenants together, beyond which a read answers 503 at once. */
  maxQueued: number;
  /** Expensive reads of one tenant in flight at once (per API process); as many again may wait. */
  perTenant: number;
  /** How long such a read waits for its tenant's turn before it answers 429. */
  tenantWaitMs: number;
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

/** Settings of busy-time import (pull and push), from the environment. */
export interface ImportConfig {
  /** How often each link's calendars are polled when no push arrives. */
  pollIntervalMs: number;
  /** Busy time is kept from this many days back to `horizonDays` ahead. */
  pastDays: number;
  horizonDays: number;
  /** A full pass this often rolls the window forward and heals anything an incremental pass missed. */
  fullResyncHours: number;
  /** Push (Google channels, Graph subscriptions); polling stays the fallback either way. */
  pushEnabled: boolean;
  /** Where providers send notifications: `<base>/webhooks/<provider>`. */
  webhookBaseUrl: string;
  /** A channel or subscription is renewed (or replaced) this long before it expires. */
  renewBeforeMs: number;
}

/** A number from the environment, or the fallback when unset; anything else is refused at start-up. */
export function num(value: string | undefined, fallback: number): number {
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
    adminApiKeys: [
      ...new Set(
        [...(env.CALSYNC_ADMIN_KEYS ?? '').split(','), env.CALSYNC_ADMIN_KEY ?? '']
          .map((k) => k.trim())
          .filter(Boolean),
      ),
    ],
    apiRateLimitPerMinute: num(env.API_RATE_LIMIT_PER_MINUTE, 6000),
    apiUnauthenticatedRateLimitPerMinute: num(env.API_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE, 600),
    apiKeyCacheMs: Math.max(0, num(env.API_KEY_CACHE_MS, 5000)),
    metricsToken: env.METRICS_TOKEN ?? '',
    workerMetricsPort: num(env.WORKER_METRICS_PORT, 9464),
    workerMetricsHost: env.WORKER_METRICS_HOST || '127.0.0.1',
    trustProxy: !env.TRUST_PROXY ? false : /^\d+$/.test(env.TRUST_PROXY) ? Number(env.TRUST_PROXY) : env.TRUST_PROXY,
    tokenKeys: env.CALSYNC_TOKEN_KEYS ?? '',
    payloadKeys: env.CALSYNC_PAYLOAD_KEYS || env.CALSYNC_TOKEN_KEYS || '',
    acceptPlaintextPayloads: env.CALSYNC_ACCEPT_PLAINTEXT_PAYLOADS === 'true',
    temporalUiOrigins: (env.TEMPORAL_UI_ORIGINS ?? 'http://127.0.0.1:8233,http://localhost:8233')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    providerEnv: env,
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
    outboundAllowedHosts: (env.OUTBOUND_ALLOWED_HOSTS ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
    linkTokenRefreshAheadMs: num(env.LINK_TOKEN_REFRESH_AHEAD_MS, 5 * 60 * 1000),
    busyReads: {
      // One core is the event loop's.
      threads: Math.max(1, num(env.BUSY_THREADS, os.availableParallelism() - 1)),
      inlineMaxIntervals: num(env.BUSY_INLINE_MAX_INTERVALS, 50),
      workBudgetMs: num(env.BUSY_WORK_BUDGET_MS, 2000),
      threadHeapMb: num(env.BUSY_THREAD_HEAP_MB, 256),
      threadNice: Math.min(19, Math.max(0, num(env.BUSY_THREAD_NICE, 10))),
      maxQueued: num(env.BUSY_MAX_QUEUED, 64),
      perTenant: Math.max(1, num(env.BUSY_TENANT_CONCURRENCY, 2)),
      tenantWaitMs: num(env.BUSY_TENANT_WAIT_MS, 500),
    },
  };
}

function loadImportConfig(env: NodeJS.ProcessEnv, publicApiUrl: string): ImportConfig {
  return {
    pollIntervalMs: num(env.IMPORT_POLL_INTERVAL_MS, 5 * 60_000),
    pastDays: num(env.IMPORT_PAST_DAYS, 1),
    horizonDays: num(env.IMPORT_HORIZON_DAYS, 90),
    fullResyncHours: num(env.IMPORT_FULL_RESYNC_HOURS, 24),
    pushEnabled: env.IMPORT_PUSH !== 'false',
    webhookBaseUrl: (env.IMPORT_WEBHOOK_URL || publicApiUrl).replace(/\/+$/, ''),
    renewBeforeMs: num(env.IMPORT_PUSH_RENEW_BEFORE_MS, 3600_000),
  };
}
