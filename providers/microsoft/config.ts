import { num } from '../../lib/config';
import type { AccountBudget } from '../types';
import type { MicrosoftOAuthConfig } from './oauth';

export interface MicrosoftConfig extends MicrosoftOAuthConfig {
  pacing: AccountBudget;
  /** Requested life of a Graph subscription (its maximum has changed over time). */
  subscriptionMinutes: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Microsoft's settings from the environment; with real client ids set, calsync talks to real Graph. */
export function loadMicrosoftConfig(env: Env): MicrosoftConfig {
  return {
    // Without `/v1.0`.
    graphBaseUrl: env.MICROSOFT_GRAPH_BASE_URL ?? 'https://graph.microsoft.com',
    tokenUrl: env.MICROSOFT_TOKEN_URL ?? 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
    authorizeUrl: env.MICROSOFT_AUTHORIZE_URL ?? 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
    clientId: env.MICROSOFT_CLIENT_ID ?? 'calsync-dev',
    clientSecret: env.MICROSOFT_CLIENT_SECRET ?? 'calsync-dev-secret',
    // Graph allows 10,000 requests per 10 minutes and 4 concurrent ones per mailbox: a burst of 3 never starts a fifth at once.
    pacing: {
      perMinute: num(env.MICROSOFT_ACCOUNT_REQUESTS_PER_MINUTE, 900),
      burst: num(env.MICROSOFT_ACCOUNT_BURST, 3),
    },
    subscriptionMinutes: num(env.GRAPH_SUBSCRIPTION_MINUTES, 4230),
  };
}
