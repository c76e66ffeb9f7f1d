import { num } from '../../lib/config';
import type { AccountBudget, CredentialsPreset } from '../types';

/** The account's default calendar: resolved at use to the first calendar of the home that holds events. */
export const CALDAV_DEFAULT_CALENDAR = 'default';

export interface CalDavConfig {
  pacing: AccountBudget;
  /** Hosts a tenant may name over http or on a private address (development and tests): OUTBOUND_ALLOWED_HOSTS. */
  allowedHosts: string[];
  /** The largest answer read from a server (a multiget of a busy calendar): bounds what one tenant's server costs. */
  maxResponseBytes: number;
  presets: CredentialsPreset[];
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The servers the connect form offers by name. iCloud and Fastmail publish one discovery address
 * for everybody; Nextcloud runs on the customer's own host.
 */
export const CALDAV_PRESETS: CredentialsPreset[] = [
  {
    id: 'icloud',
    label: 'iCloud',
    serverUrl: 'https://caldav.icloud.com/',
    passwordHelpUrl: 'https://support.apple.com/en-us/102654',
  },
  {
    id: 'fastmail',
    label: 'Fastmail',
    serverUrl: 'https://caldav.fastmail.com/',
    passwordHelpUrl: 'https://www.fastmail.help/hc/en-us/articles/360058752854',
  },
  {
    id: 'nextcloud',
    label: 'Nextcloud',
    serverUrl: 'https://{host}/remote.php/dav',
    passwordHelpUrl: 'https://docs.nextcloud.com/server/latest/user_manual/en/session_management.html',
  },
  { id: 'custom', label: 'Other CalDAV server', serverUrl: '' },
];

export function loadCalDavConfig(env: Env, allowedHosts: string[]): CalDavConfig {
  return {
    // iCloud publishes no limit; it answers 503 with Retry-After when pressed. A modest pace.
    pacing: {
      perMinute: num(env.CALDAV_ACCOUNT_REQUESTS_PER_MINUTE, 300),
      burst: num(env.CALDAV_ACCOUNT_BURST, 4),
    },
    allowedHosts,
    maxResponseBytes: num(env.CALDAV_MAX_RESPONSE_BYTES, 16 * 1024 * 1024),
    presets: CALDAV_PRESETS,
  };
}
