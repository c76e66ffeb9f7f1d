import { ApplicationFailure, Context } from '@temporalio/activity';
import { ProviderError } from '../providers/errors';
import { calsyncTag, renderEventContent } from '../providers/eventContent';
import { GoogleCalendarProvider } from '../providers/google/googleCalendar';
import { MicrosoftCalendarProvider } from '../providers/microsoft/graphCalendar';
import { remoteEventId } from '../lib/remoteIds';
import type { CalendarProvider, DeleteOutcome, UpsertOutcome } from '../providers/types';
import type { DesiredAppointment, PushMode, TargetSpec } from '../lib/types';
import { accessTokenFor, dropAccessToken, markNeedsReauth, type LinkRow } from './credentials';
import { isFinalAttempt, recordAttempt } from './attemptLog';
import type { ActivityDeps } from './deps';
import { providerRequestSeconds, syncAttempts, syncLagSeconds, syncRetries } from './metrics';

export interface PushInput {
  target: TargetSpec;
  desired: DesiredAppointment;
  mode: PushMode;
  believedToExist: boolean;
  maxAttempts: number;
}

export interface PushResult {
  outcome: UpsertOutcome | DeleteOutcome | 'skipped';
  remoteExists: boolean;
  /** The event's id in the remote calendar (Graph assigns its own), when known. */
  remoteId?: string;
}

function providerFor(deps: ActivityDeps, link: LinkRow, accessToken: string, requestId?: string): CalendarProvider {
  if (link.provider === 'google') {
    return new GoogleCalendarProvider({
      rootUrl: deps.config.google.apiRootUrl,
      accessToken,
      requestId,
      onRequest: (operation, seconds) => providerRequestSeconds.observe({ provider: 'google', operation }, seconds),
    });
  }
  if (link.provider === 'microsoft') {
    return new MicrosoftCalendarProvider({
      baseUrl: deps.config.microsoft.graphBaseUrl,
      accessToken,
      requestId,
      onRequest: (operation, seconds) => providerRequestSeconds.observe({ provider: 'microsoft', operation }, seconds),
    });
  }
  throw new ProviderError('permanent', 'provider_unsupported', `provider ${link.provider} is not available yet`);
}

/**
 * Makes one target match the desired state: writes, marks cancelled, or removes the event.
 * Idempotent by construction (deterministic event id, 409 → update, 404/410 on delete → done),
 * and every attempt leaves a sync-log row and the target's current state in PostgreSQL.
 */
export async function pushToTarget(deps: ActivityDeps, input: PushInput): Promise<PushResult> {
  const { target, desired, mode } = input;
  const attempt = Context.current().info.attempt;
  const startedAt = Date.now();
  const log = deps.logger.child({ requestId: desired.requestId, appointmentId: desired.appointmentId, target: target.targetKey, mode, revision: desired.revision, attempt });
  if (attempt > 1) syncRetries.inc({ provider: target.provider });
  const [link, stored]: [LinkRow | undefined, { remote_id: string | null; applied_mode: string | null } | undefined] = await Promise.all([
    deps.db('calendar_links').where({ id: target.linkId, tenant_id: desired.tenantId }).first(),
    deps.db('appointment_targets').where({ tenant_id: desired.tenantId, appointment_id: desired.appointmentId, target_key: target.targetKey }).first('remote_id', 'applied_mode'),
  ]);
  // calsync's own id for this target (Google's event id). Graph picks its own ids: the one it gave
  // on the last write is in PostgreSQL, unless that write removed the event.
  const key = remoteEventId(desired.tenantId, desired.appointmentId, target.targetKey);
  const knownRemoteId = stored?.remote_id && stored.remote_id !== key && stored.applied_mode !== 'remove' ? stored.remote_id : undefined;
  const remoteIdBefore = stored?.remote_id ?? (target.provider === 'google' ? key : null);

  try {
    let result: PushResult;
    if (!link || link.status === 'disconnected') {
      // Nothing left to write to: a disconnected link cleans up its own calendar.
      if (mode !== 'remove') throw new ProviderError('permanent', 'link_unavailable', 'the calendar link is disconnected');
      result = { outcome: 'skipped', remoteExists: false };
    } else {
      // A link being disconnected still removes calsync's events with its tokens, and writes nothing new.
      const usable = link.status === 'active' || (link.status === 'disconnecting' && mode === 'remove');
      if (!usable) throw new ProviderError('auth', 'link_needs_reauth', `the calendar link is ${link.status}`);
      const provider = providerFor(deps, link, await accessTokenFor(deps, link), desired.requestId);
      const ref = { calendarId: target.calendarId, eventId: key, knownRemoteId, tag: calsyncTag(desired.tenantId, desired.appointmentId) };
      if (mode === 'remove') {
        result = { outcome: await provider.deleteEvent(ref), remoteExists: false, remoteId: remoteIdBefore ?? undefined };
      } else {
        const written = await provider.upsertEvent(ref, renderEventContent(desired, { cancelled: mode === 'markCancelled' }), {
          believedToExist: input.believedToExist,
        });
        result = { outcome: written.outcome, remoteExists: true, remoteId: written.remoteId };
      }
    }
    await recordAttempt(deps, input, attempt, Date.now() - startedAt, {
      result: result.outcome,
      state: mode === 'remove' ? 'removed' : 'synced',
      remoteExists: result.remoteExists,
      remoteId: result.remoteId ?? remoteIdBefore,
    });
    syncAttempts.inc({ provider: target.provider, action: mode, result: 'ok', code: 'none' });
    if (desired.acceptedAt && result.outcome !== 'skipped') {
      syncLagSeconds.observe({ provider: target.provider }, Math.max(0, Date.now() - Date.parse(desired.acceptedAt)) / 1000);
    }
    log.info({ outcome: result.outcome, durationMs: Date.now() - startedAt }, 'push applied');
    return result;
  } catch (err) {
    const failure = err instanceof ProviderError ? err : new ProviderError('retryable', 'internal', String((err as Error)?.message ?? err));
    if (failure.status === 401 && link) await dropAccessToken(deps, link.id);
    if (failure.kind === 'auth' && link && link.status === 'active') await markNeedsReauth(deps, link, failure.code);
    const final = isFinalAttempt(failure, attempt, input.maxAttempts);
    await recordAttempt(deps, input, attempt, Date.now() - startedAt, {
      result: 'error',
      state: final ? 'failed' : 'retrying',
      error: failure,
      remoteId: remoteIdBefore,
    });
    syncAttempts.inc({ provider: target.provider, action: mode, result: 'error', code: failure.code });
    log.warn({ code: failure.code, status: failure.status, final }, 'push failed');
    throw ApplicationFailure.create({
      type: failure.code,
      message: failure.message,
      nonRetryable: failure.kind !== 'retryable',
      nextRetryDelay: failure.retryAfterMs !== undefined ? Math.max(failure.retryAfterMs, 100) : undefined,
      details: [{ kind: failure.kind, status: failure.status ?? null }],
    });
  }
}
