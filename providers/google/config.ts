import { num } from '../../lib/config';
import type { AccountBudget } from '../types';
import type { GoogleOAuthConfig } from './oauth';

export interface GoogleConfig extends GoogleOAuthConfig {
  pacing: AccountBudget;
  /** Requested life of a push channel (Google caps event channels at a week). */
  channelTtlSeconds: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Google's settings from the environment; with real client ids set, calsync talks to real Google. */
export function loadGoogleConfig(env: Env): GoogleConfig {
  const tokenUrl = env.GOOGLE_TOKEN_URL ?? 'https://oauth2.googleapis.com/token';
  return {
    apiRootUrl: env.GOOGLE_API_ROOT_URL ?? 'https://www.googleapis.com/',
    tokenUrl,
    // Google (and its emulator) serve /revoke beside /token.
    revokeUrl: env.GOOGLE_REVOKE_URL ?? tokenUrl.replace(/\/token$/, '/revoke'),
    authorizeUrl: env.GOOGLE_AUTHORIZE_URL ?? 'https://accounts.google.com/o/oauth2/v2/auth',
    clientId: env.GOOGLE_CLIENT_ID ?? 'calsync-dev',
    clientSecret: env.GOOGLE_CLIENT_SECRET ?? 'calsync-dev-secret',
    // Google allows 600 requests a minute per user: a burst of 10 keeps any minute under 540 + 10.
    pacing: { perMinute: num(env.GOOGLE_ACCOUNT_REQUESTS_PER_MINUTE, 540), burst: num(env.GOOGLE_ACCOUNT_BURST, 10) },
    channelTtlSeconds: num(env.GOOGLE_WATCH_TTL_SECONDS, 7 * 86400),
  };
}
