// The decisions of one appointmentSync round, as plain functions: no Temporal, no I/O, no clock.
// The workflow feeds them what it knows and carries out what they answer.
import type { PlanWarning, TargetPlan } from '../../activities/targets';
import { HELD_CODE } from '../../lib/heldSyncs';
import { appointmentSyncState, type AppointmentSyncState } from '../../lib/syncState';
import type { DesiredAppointment, PushMode, TargetSpec, TargetStatus } from '../../lib/types';

/** A forced resync without a target key rewrites every target. */
export const ALL_TARGETS = '*';

/** What the log already has for this appointment, so each warning is recorded once per change. */
export interface LoggedWarnings {
  syncOff: string;
  staff: string;
  invitation: string;
}
export const NOTHING_LOGGED: LoggedWarnings = { syncOff: '', staff: '', invitation: '' };

export interface TargetWrite {
  spec: TargetSpec;
  mode: PushMode;
  /** This copy tells the attendees (one per appointment, however many calendars hold it). */
  notifyAttendees: boolean;
}

/** The client's e-mail invitation this round. */
export interface InvitationDecision {
  /** REQUEST on create and change, CANCEL on cancel and delete; absent when nothing is to be sent. */
  method?: 'REQUEST' | 'CANCEL';
  write?: TargetWrite;
  /** Preconditions that are missing: no mail, a warning in the log instead. */
  warnings: PlanWarning[];
}

export interface RoundInput {
  desired: DesiredAppointment;
  /** The `planTargets` activity's answer for this state. */
  plan: TargetPlan;
  /** What is known about every target so far. */
  targets: readonly TargetStatus[];
  /** Target keys to rewrite even when in step (`ALL_TARGETS` for all). */
  forced: ReadonlySet<string>;
  logged: LoggedWarnings;
}

export interface RoundPlan {
  /** The invitation first, then the wanted calendars, then those to remove the event from. */
  writes: TargetWrite[];
  /** Wanted calendars already in step: nothing to write. */
  upToDate: string[];
  /** The copy that tells attendees: the first wanted calendar; when none is wanted, the first that had it. */
  notifying?: string;
  invitation: InvitationDecision;
  /** Warnings to record now (one recordWarnings call), if any. */
  record?: { staffWithoutCalendar: string[]; warnings: PlanWarning[] };
  /** The new `logged`, to pass to the next round. */
  logged: LoggedWarnings;
}

const ended = (desired: DesiredAppointment) => desired.deleted || desired.status === 'cancelled';

/** Which targets to write in which mode, what is up to date, and what to log: one round's plan. */
export function planRound({ desired, plan, targets, forced, logged }: RoundInput): RoundPlan {
  const known = new Map(targets.map((t) => [t.targetKey, t]));
  const isForced = (key: string) => forced.has(ALL_TARGETS) || forced.has(key);
  const next: LoggedWarnings = { ...logged };
  const toRecord: PlanWarning[] = [];

  // The appointment or its type is switched off: once per revision.
  next.syncOff = plan.syncOff ? `${desired.revision}:${plan.syncOff.code}` : '';
  if (plan.syncOff && next.syncOff !== logged.syncOff) toRecord.push(plan.syncOff);
  // A staff member with nothing connected is worth a warning, once per change of that list.
  const staff = ended(desired) ? [] : plan.staffWithoutCalendar;
  next.staff = staff.join(',');
  const staffToRecord = next.staff !== logged.staff ? staff : [];

  const invitation = planInvitation(desired, plan, known, isForced);
  next.invitation = invitation.warnings.length
    ? `${desired.revision}:${invitation.warnings.map((w) => w.code).join(',')}`
    : '';
  if (next.invitation !== logged.invitation) toRecord.push(...invitation.warnings);

  const cancelled = desired.status === 'cancelled';
  const keepCancelled = cancelled && plan.settings.cancelledEvents === 'keep';
  const wanted = desired.deleted || (cancelled && !keepCancelled) ? [] : plan.targets;
  const mode: PushMode = keepCancelled ? 'markCancelled' : 'upsert';
  const wantedKeys = new Set(wanted.map((t) => t.targetKey));
  const notifying = (wanted[0] ?? targets.find((t) => t.kind === 'calendar'))?.targetKey;

  const writes: TargetWrite[] = invitation.write ? [invitation.write] : [];
  const upToDate: string[] = [];
  for (const spec of wanted) {
    const now = known.get(spec.targetKey);
    const inStep = now?.state === 'synced' && now.appliedRevision === desired.revision && now.appliedMode === mode;
    if (inStep && !isForced(spec.targetKey)) upToDate.push(spec.targetKey);
    else writes.push({ spec, mode, notifyAttendees: spec.targetKey === notifying });
  }
  // Reassigned away, disconnected, cancelled or deleted: take the event out of that calendar.
  for (const now of targets) {
    if (now.kind !== 'calendar') continue; // the invitation is cancelled by its own plan
    if (wantedKeys.has(now.targetKey) || (now.state === 'removed' && !isForced(now.targetKey))) continue;
    writes.push({ spec: specOf(now), mode: 'remove', notifyAttendees: now.targetKey === notifying });
  }

  const record =
    toRecord.length || staffToRecord.length ? { staffWithoutCalendar: staffToRecord, warnings: toRecord } : undefined;
  return { writes, upToDate, notifying, invitation, ...(record ? { record } : {}), logged: next };
}

/**
 * The client's e-mail invitation: a REQUEST on create and on changes, a CANCEL on cancel and
 * delete (the activity compares what the client sees and sends nothing when that is unchanged).
 * Each missing precondition is a warning and no mail.
 */
export function planInvitation(
  desired: DesiredAppointment,
  plan: TargetPlan,
  known: ReadonlyMap<string, TargetStatus>,
  isForced: (key: string) => boolean,
): InvitationDecision {
  const spec = plan.invitationTarget;
  const switches = plan.settings.clientInvitations;
  const now = spec ? known.get(spec.targetKey) : undefined;
  // A tenant that does not use invitations, for an appointment without a client e-mail: not even a warning.
  if (!spec || (!desired.clientEmail && !switches?.enabled && !now)) return { warnings: [] };
  const ending = ended(desired);
  if (ending && !now?.remoteExists) return { warnings: [] }; // never invited: nothing to cancel
  const when = ending ? 'onCancel' : now?.remoteExists ? 'onChange' : 'onCreate';
  const warnings: PlanWarning[] = [];
  const warn = (code: string, message: string) =>
    warnings.push({ targetKey: spec.targetKey, provider: spec.provider, code, message });
  if (!switches?.enabled)
    warn(
      'client_invitations_off',
      'client invitations are switched off for this tenant (settings.clientInvitations.enabled); no e-mail is sent',
    );
  else if (!switches[when])
    warn(
      'client_invitations_off',
      `client invitations are switched off for this kind of change (settings.clientInvitations.${when}); no e-mail is sent`,
    );
  if (!desired.clientEmail && !ending)
    warn('client_email_missing', 'the appointment has no clientEmail; no invitation is sent');
  if (!desired.locationTimeZone)
    warn('location_time_zone_missing', 'the location has no time zone (locationTimeZone, IANA); no invitation is sent');
  if (warnings.length) return { warnings };
  const mode: PushMode = ending ? 'remove' : 'upsert';
  const upToDate =
    (now?.state === 'synced' || now?.state === 'removed') &&
    now.appliedRevision === desired.revision &&
    now.appliedMode === mode;
  if (upToDate && !isForced(spec.targetKey)) return { warnings: [] };
  return { method: ending ? 'CANCEL' : 'REQUEST', write: { spec, mode, notifyAttendees: false }, warnings: [] };
}

/** The appointment's overall state once a round's writes are done (the same summary the API gives). */
export function summaryState(targets: readonly TargetStatus[]): AppointmentSyncState {
  return appointmentSyncState(targets);
}

/** The CRM hears about a failure, and about the recovery from one; not about every success. */
export function crmNotice(
  state: AppointmentSyncState,
  lastReported: AppointmentSyncState | undefined,
  notifyCrm: boolean,
): AppointmentSyncState | undefined {
  if (!notifyCrm) return undefined;
  if (state === 'failed') return lastReported === 'failed' ? undefined : state;
  return lastReported === 'failed' ? state : undefined;
}

/** A target while its write is under way: what was known of the remote copy stays. */
export function pendingStatus(spec: TargetSpec, before: TargetStatus | undefined): TargetStatus {
  return {
    ...specOf(spec),
    state: 'pending',
    remoteExists: before?.remoteExists ?? false,
    appliedRevision: before?.appliedRevision ?? null,
    appliedMode: before?.appliedMode ?? null,
    lastError: before?.lastError,
  };
}

/** A target after its write succeeded. */
export function appliedStatus(
  entry: TargetStatus,
  mode: PushMode,
  revision: number,
  remoteExists: boolean,
): TargetStatus {
  return {
    ...entry,
    state: mode === 'remove' ? 'removed' : 'synced',
    remoteExists,
    appliedRevision: revision,
    appliedMode: mode,
    lastError: undefined,
  };
}

/**
 * A target after its write gave up. A link that needs re-authorisation holds the write instead of
 * failing it: the link's workflow resyncs the appointment once the account is reconnected.
 */
export function failedStatus(entry: TargetStatus, code: string, message: string): TargetStatus {
  return { ...entry, state: code === HELD_CODE ? 'held' : 'failed', lastError: { code, message } };
}

/** Only the spec's own fields: what an activity needs to write a target. */
export function specOf(t: TargetSpec): TargetSpec {
  return {
    targetKey: t.targetKey,
    kind: t.kind,
    provider: t.provider,
    linkId: t.linkId,
    calendarId: t.calendarId,
    remoteId: t.remoteId,
  };
}
