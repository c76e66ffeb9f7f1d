import type { Config } from '../../lib/config';
import type { ProviderModule, ProviderSession } from '../types';
import { CALDAV_DEFAULT_CALENDAR, loadCalDavConfig, type CalDavConfig } from './config';

/** CalDAV accounts (iCloud, Fastmail, Nextcloud, any RFC 4791 server) over tsdav, by username and app-specific password. */
export function caldavProvider(config: CalDavConfig): ProviderModule {
  // The session's access token is the sealed credentials, opened by the activity: it stays in the activity.
  // tsdav and the outbound agent load on first use, like the other providers' clients.
  const open = async (session: ProviderSession) => {
    const { davFetch, parseSecret } = await import('./dav');
    const secret = parseSecret(session.accessToken);
    const fetch = davFetch(config, secret, session);
    const { CalDavCalendar } = await import('./calendar');
    return { fetch, calendar: new CalDavCalendar(fetch, secret.homeUrl) };
  };
  return {
    name: 'caldav',
    displayName: 'CalDAV',
    // Neutral: CalDAV is many servers (iCloud, Fastmail, Nextcloud), none of them its brand.
    brandColor: '#5f6b7a',
    calendar: async (session) => (await open(session)).calendar,
    // No standard sharing in CalDAV (and no push): both are left out.
    busy: async (session) => {
      const { fetch, calendar } = await open(session);
      return new (await import('./busy')).CalDavBusyReader(fetch, calendar);
    },
    refreshAccess: async (secret) => (await import('./connect')).checkCalDavAccess(config, secret),
    credentials: {
      presets: config.presets,
      verify: async (input) => (await import('./connect')).caldavConsent(config).verify(input),
    },
    pacing: config.pacing,
    // A first write is one PUT (and a GET when believed to exist): well below the pacing.
    backfillRatePerSecond: 3,
    defaultCalendarId: () => CALDAV_DEFAULT_CALENDAR,
    defaultImportCalendarId: CALDAV_DEFAULT_CALENDAR,
    // Resources are named after calsync's deterministic id.
    takesEventIds: true,
  };
}

export const createProvider = (config: Config): ProviderModule =>
  caldavProvider(loadCalDavConfig(config.providerEnv, config.outboundAllowedHosts));
