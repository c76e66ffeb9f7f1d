import type { Config } from '../../lib/config';
import type { ProviderModule, ProviderSession } from '../types';
import { loadGoogleConfig, type GoogleConfig } from './config';
import { googleConsent, refreshGoogleAccessToken, revokeGoogleToken } from './oauth';
import { googlePush } from './push';

/** Google Calendar (API v3 over `googleapis`) and Google's OAuth 2.0. */
export function googleProvider(config: GoogleConfig): ProviderModule {
  const client = (session: ProviderSession) => ({
    rootUrl: config.apiRootUrl,
    ...session,
  });
  return {
    name: 'google',
    displayName: 'Google',
    brandColor: '#1a73e8',
    calendar: async (session) => new (await import('./googleCalendar')).GoogleCalendarProvider(client(session)),
    sharing: async (session) => new (await import('./googleCalendar')).GoogleCalendarProvider(client(session)),
    busy: async (session) => new (await import('./busy')).GoogleBusyReader(client(session)),
    refreshAccess: (refreshToken) => refreshGoogleAccessToken(config, refreshToken),
    revoke: (refreshToken) => revokeGoogleToken(config.revokeUrl, refreshToken),
    oauth: googleConsent(config),
    push: googlePush(config.channelTtlSeconds * 1000),
    pacing: config.pacing,
    // Below 540 requests a minute: the backlog stays short and live changes still get through.
    backfillRatePerSecond: 8,
    // The primary calendar's id is the account's address.
    defaultCalendarId: (accountEmail) => accountEmail,
    defaultImportCalendarId: 'primary',
    takesEventIds: true,
  };
}

export const createProvider = (config: Config): ProviderModule => googleProvider(loadGoogleConfig(config.providerEnv));
