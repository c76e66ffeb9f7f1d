import type { Config } from '../../lib/config';
import type { ProviderModule, ProviderSession } from '../types';
import { loadMicrosoftConfig, type MicrosoftConfig } from './config';
import { MICROSOFT_DEFAULT_CALENDAR } from './eventMapping';
import { microsoftConsent, refreshMicrosoftAccessToken } from './oauth';
import { microsoftPush } from './push';
import { graphRecurrenceProblem } from './recurrence';

/** Microsoft 365 calendars through Microsoft Graph (`@microsoft/microsoft-graph-client`) and the identity platform. */
export function microsoftProvider(config: MicrosoftConfig): ProviderModule {
  const client = (session: ProviderSession) => ({
    baseUrl: config.graphBaseUrl,
    ...session,
  });
  return {
    name: 'microsoft',
    displayName: 'Microsoft',
    brandColor: '#0067b8',
    calendar: async (session) => new (await import('./graphCalendar')).MicrosoftCalendarProvider(client(session)),
    sharing: async (session) => new (await import('./graphCalendar')).MicrosoftCalendarProvider(client(session)),
    busy: async (session) => new (await import('./busy')).MicrosoftBusyReader(client(session)),
    refreshAccess: (refreshToken) => refreshMicrosoftAccessToken(config, refreshToken),
    // The identity platform has no endpoint that revokes one grant: erasing the tokens is what remains.
    oauth: microsoftConsent(config),
    push: microsoftPush(config.subscriptionMinutes * 60_000),
    pacing: config.pacing,
    // A first write costs a lookup and a create: below 900 requests a minute.
    backfillRatePerSecond: 6,
    // `calendar` stands for the mailbox's default calendar (`/me/calendar`).
    defaultCalendarId: () => MICROSOFT_DEFAULT_CALENDAR,
    defaultImportCalendarId: MICROSOFT_DEFAULT_CALENDAR,
    takesEventIds: false,
  };
}

export const createProvider = (config: Config): ProviderModule =>
  microsoftProvider(loadMicrosoftConfig(config.providerEnv));
/** Graph's patternedRecurrence holds less than RRULE can say. */
export const seriesProblem = graphRecurrenceProblem;
