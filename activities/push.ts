import { ApplicationFailure, Context } from '@temporalio/activity';
import { ProviderError } from '../providers/errors';
import { OWNER_TAG, calsyncTag, ownerTag, renderEventContent } from '../content/eventContent';
import { GoogleCalendarProvider } from '../providers/google/googleCalendar';
import { MicrosoftCalendarProvider } from '../providers/microsoft/graphCalendar';
import { HELD_CODE } from '../lib/heldSyncs';
import { remoteEventId } from '../lib/remoteIds';
import { resolveCrmSettings } from '../lib/crmSettings';
import type { CalendarProvider, CalendarProvisioning, CalendarSharing, DeleteOutcome, UpsertOutcome } from '../providers/types';
import type { DesiredAppointment, PushMode, TargetSpec } from '../lib/types';
import { accessTokenFor, dropAccessToken, markNeedsReauth, type LinkRow } from './credentials';
import { paceLink } from './accountPacing';
import { isFinalAttempt, recordAttempt } from './attemptLog';
import { attendeesNeedTelling, recordAttendeeNotice } from './attendeeNotices';
import type { ActivityDeps } from './deps';
import { providerRequestSeconds, syncAttempts, syncLagSeconds, syncRetries } from './metrics';

export interface PushInput {
  target: TargetSpec;
  desired: DesiredAppointment;
  mode: PushMode;
  believedToExist: boolean;
  maxAttempts: number;
  /** This copy of the event is the one that tells its attendees (set by the workflow on one target). */
  notifyAttendees?: boolean;
}

export interface PushResult {
  outcome: UpsertOutcome | DeleteOutcome | 'skipped';
  remoteExists: boolean;
  /** The event's id in the remote calendar (Graph assigns its own), when known. */
  remoteId?: string;
}

export function providerFor(deps: ActivityDeps, link: LinkRow, accessToken: string, requestId?: string): CalendarProvider & CalendarProvisioning & CalendarSharing {
  if (link.provider === 'google') {
    return new GoogleCalendarProvider({
      rootUrl: deps.config.google.apiRootUrl,
      accessToken,
      requestId,
      onRequest: (operation, seconds) => providerRequestSeconds.observe({ provider: 'google', operation }, seconds),
      pace: () => paceLink(deps, link),
    });
  }
  if (link.provider === 'microsoft') {
    return new MicrosoftCalendarProvider({
      baseUrl: deps.config.microsoft.graphBaseUrl,
      accessToken,
      requestId,
      onRequest: (operation, seconds) => providerRequestSeconds.observe({ provider: 'microsoft', operation }, seconds),
      pace: () => paceLink(deps, link),
    });
  }
  throw new ProviderError('permanent', 'provider_unsupported', `provider ${link.provider} is not available yet`);
}

/** The event as this tenant's settings render it; on removal, only whether attendees hear of it. */
function renderForTarget(desired: DesiredAppointment, stored: Record<string, any> | undefined, mode: PushMode, notify: boolean | undefined) {
  // The client who gets calsync's own e-mail invitation must not get a second one as an attendee.
  const excludeAttendees = stored?.clientInvitations?.enabled && desired.clientEmail ? [desired.clientEmail] : [];
  return renderEventContent(desired, { cancelled: mode === 'markCancelled', settings: resolveCrmSettings(stored), notifyAttendees: notify, excludeAttendees });
}

function heldMessage(link: { status_reason?: string | null }): string {
  return `held until the calendar account is connected again (needs re-authorisation: ${link.status_reason ?? 'unknown'})`;
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
  const [link, stored, tenant]: [LinkRow | undefined, { remote_id: string | null; applied_mode: string | null } | undefined, { settings: Record<string, any> } | undefined] = await Promise.all([
    deps.db('calendar_links').where({ id: target.linkId, tenant_id: desired.tenantId }).first(),
    deps.db('appointment_targets').where({ tenant_id: desired.tenantId, appointment_id: desired.appointmentId, target_key: target.targetKey }).first('remote_id', 'applied_mode'),
    deps.db('tenants').where({ id: desired.tenantId }).first('settings'),
  ]);
  const rendered = renderForTarget(desired, tenant?.settings, mode, input.notifyAttendees);
  // Attendees hear only of changes they care about, and of a removal only if they were ever told.
  const noticeKey = { tenantId: desired.tenantId, appointmentId: desired.appointmentId, targetKey: target.targetKey };
  const noticeContent = mode === 'remove' ? undefined : rendered;
  const tell = rendered.notifyAttendees ? await attendeesNeedTelling(deps, noticeKey, noticeContent) : false;
  const content = { ...rendered, quiet: !tell };
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
      if (link.status === 'needs_reauth') throw new ProviderError('auth', HELD_CODE, heldMessage(link));
      if (!usable) throw new ProviderError('auth', 'link_needs_reauth', `the calendar link is ${link.status}`);
      const provider = providerFor(deps, link, await accessTokenFor(deps, link), desired.requestId);
      const ref = {
        calendarId: target.calendarId,
        eventId: key,
        knownRemoteId,
        tag: calsyncTag(desired.tenantId, desired.appointmentId),
        notifyAttendees: tell,
      };
      if (mode === 'remove') {
        result = { outcome: await provider.deleteEvent(ref), remoteExists: false, remoteId: remoteIdBefore ?? undefined };
      } else {
        // The owner tag lets the link's reconciliation list exactly calsync's events on this target.
        content.tags[OWNER_TAG] = ownerTag(desired.tenantId, target.targetKey);
        const written = await provider.upsertEvent(ref, content, { believedToExist: input.believedToExist });
        result = { outcome: written.outcome, remoteExists: true, remoteId: written.remoteId };
      }
      if (tell) await recordAttendeeNotice(deps, noticeKey, noticeContent);
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
    let failure = err instanceof ProviderError ? err : new ProviderError('retryable', 'internal', String((err as Error)?.message ?? err));
    if (failure.status === 401 && link) await dropAccessToken(deps, link.id);
    if (failure.kind === 'auth' && link && link.status === 'active') await markNeedsReauth(deps, link, failure.code);
    // The account must be reconnected first: the write is held (no more retries), not failed, and
    // the link's workflow resumes it after the reconnect.
    const held = failure.kind === 'auth' && link !== undefined && (link.status === 'active' || link.status === 'needs_reauth');
    if (held && failure.code !== HELD_CODE) failure = new ProviderError('auth', HELD_CODE, heldMessage({ status_reason: failure.code }));
    const final = isFinalAttempt(failure, attempt, input.maxAttempts);
    await recordAttempt(deps, input, attempt, Date.now() - startedAt, {
      result: held ? 'held' : 'error',
      state: held ? 'held' : final ? 'failed' : 'retrying',
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
