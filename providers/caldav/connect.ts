import { createAccount, fetchCalendarUserAddresses, propfind } from 'tsdav';
import { ConnectFailure, ProviderError } from '../errors';
import type { AccessGrant, CredentialsConsent } from '../types';
import type { CalDavConfig } from './config';
import { davFetch, parseSecret, type CalDavSecret } from './dav';

/** How long a checked password is taken as good before the server is asked again. */
const ACCESS_CHECK_MS = 3600_000;

/** Why discovery failed, as the person at the form should be told (never the password). */
function connectFailure(err: unknown): ConnectFailure {
  if (err instanceof ProviderError) {
    if (err.kind === 'auth') return new ConnectFailure('wrong_credentials', { status: err.status });
    if (err.code === 'outbound_refused') return new ConnectFailure('refused', { code: err.code });
    if (err.kind === 'retryable') return new ConnectFailure('unreachable', { code: err.code, status: err.status });
    return new ConnectFailure('not_a_calendar_server', { code: err.code, status: err.status });
  }
  return new ConnectFailure('not_a_calendar_server', { error: err instanceof Error ? err.message : String(err) });
}

/**
 * Connecting by username and app-specific password: discovery from the server URL (RFC 6764
 * `/.well-known/caldav`, then `current-user-principal` and `calendar-home-set`, as tsdav does it),
 * which fails on a wrong password before anything is stored. The account's address is its
 * calendar-user-address (a `mailto:`), else the username (iCloud's is the Apple ID's address).
 */
export function caldavConsent(config: CalDavConfig): CredentialsConsent {
  return {
    presets: config.presets,
    async verify({ serverUrl, username, password }) {
      const fetch = davFetch(config, { username, password }, { timeoutMs: 20_000 });
      let account;
      try {
        account = await createAccount({ account: { serverUrl, accountType: 'caldav' }, fetch });
      } catch (err) {
        throw connectFailure(err);
      }
      if (!account.principalUrl || !account.homeUrl) throw new ConnectFailure('not_a_calendar_server');
      const addresses = await fetchCalendarUserAddresses({ account, fetch }).catch(() => [] as string[]);
      const mailto = addresses.find((a) => /^mailto:/i.test(a))?.replace(/^mailto:/i, '');
      const secret: CalDavSecret = {
        v: 1,
        serverUrl,
        username,
        password,
        principalUrl: account.principalUrl,
        homeUrl: account.homeUrl,
      };
      return { accountEmail: (mailto ?? username).toLowerCase(), secret: JSON.stringify(secret) };
    },
  };
}

/**
 * There is no refresh for a password: the grant is the sealed credentials themselves, checked with
 * one PROPFIND of the principal so a password revoked on the server is noticed by the link's own
 * token upkeep too (401 → `auth`: the link needs re-authorisation).
 */
export async function checkCalDavAccess(config: CalDavConfig, secretText: string): Promise<AccessGrant> {
  const secret = parseSecret(secretText);
  const [answer] = await propfind({
    url: secret.principalUrl,
    props: { 'd:current-user-principal': {} },
    depth: '0',
    fetch: davFetch(config, secret, { timeoutMs: 20_000 }),
  });
  if (answer && (answer.status === 404 || answer.status === 410))
    throw new ProviderError('auth', 'principal_gone', 'the CalDAV account is gone from its server', answer.status);
  return { accessToken: secretText, expiresAt: new Date(Date.now() + ACCESS_CHECK_MS) };
}
