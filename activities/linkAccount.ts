import { ApplicationFailure } from '@temporalio/activity';
import { HELD_CODE, NOT_STARTED_CODE } from '../lib/heldSyncs';
import type { BusyReader } from '../providers/busyTypes';
import { ProviderError, asProviderError } from '../providers/errors';
import { providerRegistry } from '../providers/registry';
import type { CalendarApi, CalendarSharing, ProviderModule, ProviderSession } from '../providers/types';
import { paceLink } from './accountPacing';
import { activityFailure } from './activityFailure';
import { accessTokenFor, dropAccessToken, markNeedsReauth, type LinkRow } from './credentials';
import type { ActivityDeps } from './deps';
import { providerRequestSeconds } from './metrics';

/** One link's account, ready for work: its provider with a fresh credential and the account's pacing. */
export interface LinkAccount {
  provider: ProviderModule;
  calendar(): Promise<CalendarApi>;
  /** Throws `provider_unsupported` (permanent) when the provider cannot share calendars. */
  sharing(): Promise<CalendarSharing>;
  /** Throws `provider_unsupported` (permanent) when the provider cannot read busy time. */
  busy(): Promise<BusyReader>;
}

export interface ActAsLinkOptions {
  /** Carried to the provider's requests where it allows (logs on both sides match). */
  requestId?: string;
  /** Refresh the access token when it expires within this long (token upkeep asks for more than the default). */
  refreshAheadMs?: number;
  /**
   * The longest wait for the account's next request slot. A slot further away is a retryable
   * `account_paced`, or NOT_STARTED_CODE when no request of this work had been sent yet.
   */
  maxPacingWaitMs?: number;
}

/** The provider a link was made with; an unknown name is a permanent `provider_unsupported`. */
export function providerOfLink(deps: ActivityDeps, link: Pick<LinkRow, 'provider'>): ProviderModule {
  return providerRegistry(deps.config).get(link.provider);
}

function unsupported(provider: ProviderModule, what: string): ProviderError {
  return new ProviderError('permanent', 'provider_unsupported', `${provider.displayName} calendars cannot ${what}`);
}

/**
 * Does `work` as the link's account, and turns every failure into the same outcome:
 * - a 401 drops the cached access token (the next attempt refreshes it);
 * - a dead grant (`auth`) moves an active or connecting link to needs_reauth and answers HELD_CODE
 *   while the link can still come back by a reconnect (the work waits for it, no more retries);
 * - anything unclassified is a retryable `internal` failure; the server's Retry-After is kept.
 * The caller gets a ProviderError and turns it into an activity failure with `activityFailure`.
 */
export async function actAsLink<T>(
  deps: ActivityDeps,
  link: LinkRow,
  work: (account: LinkAccount) => Promise<T>,
  opts: ActAsLinkOptions = {},
): Promise<T> {
  try {
    const provider = providerOfLink(deps, link);
    let requestsPaced = 0;
    const session: ProviderSession = {
      accessToken: await accessTokenFor(deps, link, provider, opts.refreshAheadMs),
      // Pacing is calsync's own PostgreSQL, queried from inside the provider's request: its failure (a
      // restart, a full connection pool) stays calsync's retryable one instead of reading as the
      // provider's answer (an error without a status is a permanent client_error to the classifiers).
      pace: () =>
        paceLink(deps, link, provider.pacing, opts.maxPacingWaitMs).then(
          () => void requestsPaced++,
          (err) => {
            const failure = asProviderError(err);
            if (requestsPaced === 0 && opts.maxPacingWaitMs !== undefined && failure.code === 'account_paced')
              throw new ProviderError('retryable', NOT_STARTED_CODE, failure.message, undefined, failure.retryAfterMs);
            throw failure;
          },
        ),
      requestId: opts.requestId,
      timeoutMs: deps.config.sync.activityTimeoutMs,
      onRequest: (operation, seconds) =>
        providerRequestSeconds.observe({ provider: provider.name, operation }, seconds),
    };
    return await work({
      provider,
      calendar: () => provider.calendar(session),
      sharing: () =>
        provider.sharing ? provider.sharing(session) : Promise.reject(unsupported(provider, 'be shared')),
      busy: () =>
        provider.busy ? provider.busy(session) : Promise.reject(unsupported(provider, 'be read for busy time')),
    });
  } catch (err) {
    // A decision of calsync's own (a bad page token, say) is not the provider's failure.
    if (err instanceof ApplicationFailure) throw err;
    throw await linkFailure(deps, link, err);
  }
}

/** actAsLink for an activity's whole work: a failure leaves as the activity's failure (activityFailure). */
export async function linkActivity<T>(
  deps: ActivityDeps,
  link: LinkRow,
  work: (account: LinkAccount) => Promise<T>,
  opts: ActAsLinkOptions = {},
): Promise<T> {
  try {
    return await actAsLink(deps, link, work, opts);
  } catch (err) {
    throw activityFailure(err);
  }
}

/** Whether a failure is a write held until the link's account is connected again. */
export function isHeld(err: unknown): boolean {
  return err instanceof ProviderError && err.code === HELD_CODE;
}

/** The message of a held write: why the link needs re-authorisation. */
export function heldFailure(reason: string | null | undefined, status?: number): ProviderError {
  return new ProviderError(
    'auth',
    HELD_CODE,
    `held until the calendar account is connected again (needs re-authorisation: ${reason ?? 'unknown'})`,
    status,
  );
}

async function linkFailure(deps: ActivityDeps, link: LinkRow, err: unknown): Promise<ProviderError> {
  const failure = asProviderError(err);
  if (failure.status === 401) await dropAccessToken(deps, link.id);
  if (failure.kind !== 'auth' || failure.code === HELD_CODE) return failure;
  await markNeedsReauth(deps, link, failure.code);
  // A link being disconnected will not be reconnected: its work fails rather than waits.
  const reconnectable = link.status === 'active' || link.status === 'connecting' || link.status === 'needs_reauth';
  return reconnectable ? heldFailure(failure.code, failure.status) : failure;
}
