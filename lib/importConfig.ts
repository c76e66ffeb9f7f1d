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
  /** Where providers send notifications: `<base>/webhooks/google` and `<base>/webhooks/microsoft`. */
  webhookBaseUrl: string;
  /** Requested lifetimes: Google caps channels (a week for events); Graph's maximum has changed over time. */
  googleChannelTtlSeconds: number;
  graphSubscriptionMinutes: number;
  /** A channel or subscription is renewed (or replaced) this long before it expires. */
  renewBeforeMs: number;
}

function num(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new Error(`expected a number, got "${value}"`);
  return parsed;
}

export function loadImportConfig(env: NodeJS.ProcessEnv, publicApiUrl: string): ImportConfig {
  return {
    pollIntervalMs: num(env.IMPORT_POLL_INTERVAL_MS, 5 * 60_000),
    pastDays: num(env.IMPORT_PAST_DAYS, 1),
    horizonDays: num(env.IMPORT_HORIZON_DAYS, 90),
    fullResyncHours: num(env.IMPORT_FULL_RESYNC_HOURS, 24),
    pushEnabled: env.IMPORT_PUSH !== 'false',
    webhookBaseUrl: (env.IMPORT_WEBHOOK_URL || publicApiUrl).replace(/\/+$/, ''),
    googleChannelTtlSeconds: num(env.GOOGLE_WATCH_TTL_SECONDS, 7 * 86400),
    graphSubscriptionMinutes: num(env.GRAPH_SUBSCRIPTION_MINUTES, 4230),
    renewBeforeMs: num(env.IMPORT_PUSH_RENEW_BEFORE_MS, 3600_000),
  };
}
