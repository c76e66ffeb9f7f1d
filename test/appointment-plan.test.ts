import type { TargetPlan } from '../activities/targets';
import { clientInvitationTarget } from '../lib/clientInvitations';
import type { DesiredAppointment, PushMode, TargetSpec, TargetState, TargetStatus } from '../lib/types';
import {
  ALL_TARGETS,
  NOTHING_LOGGED,
  crmNotice,
  failedStatus,
  planRound,
  summaryState,
  type RoundInput,
} from '../workflows/appointmentSync/plan';

/** appointmentSync's planning, without Temporal: plain inputs, plain answers, milliseconds. */

const desired = (over: Partial<DesiredAppointment> = {}): DesiredAppointment => ({
  tenantId: 't1',
  appointmentId: 'a1',
  revision: 1,
  type: 'appointment',
  status: 'scheduled',
  start: '2030-01-01T10:00:00Z',
  end: '2030-01-01T11:00:00Z',
  timeZone: 'UTC',
  services: ['cut'],
  staffIds: ['ann'],
  deleted: false,
  ...over,
});
const calendar = (key: string): TargetSpec => ({
  targetKey: key,
  kind: 'calendar',
  provider: 'google',
  linkId: `link-${key}`,
  calendarId: `${key}@example.com`,
  remoteId: `r${key}`,
});
const invitation = clientInvitationTarget('t1', 'a1');
const status = (
  spec: TargetSpec,
  state: TargetState,
  appliedRevision: number | null,
  appliedMode: PushMode | null = 'upsert',
  remoteExists = state !== 'removed',
): TargetStatus => ({
  ...spec,
  state,
  remoteExists,
  appliedRevision,
  appliedMode,
});
const plan = (
  targets: TargetSpec[],
  over: Partial<TargetPlan> = {},
  settings: Partial<TargetPlan['settings']> = {},
): TargetPlan => ({
  targets,
  staffWithoutCalendar: [],
  invitationTarget: invitation,
  storedTargets: [],
  ...over,
  settings: {
    cancelledEvents: 'remove',
    notifyCrm: false,
    clientInvitations: { enabled: false, onCreate: true, onChange: true, onCancel: true },
    ...settings,
  },
});
const round = (over: Partial<RoundInput> & Pick<RoundInput, 'plan'>) =>
  planRound({ desired: desired(), targets: [], forced: new Set(), logged: NOTHING_LOGGED, ...over });
const writes = (r: ReturnType<typeof planRound>) =>
  r.writes.map((w) => `${w.spec.targetKey}:${w.mode}${w.notifyAttendees ? '!' : ''}`);

const A = calendar('cal:a');
const B = calendar('cal:b');
const invitationsOn = { clientInvitations: { enabled: true, onCreate: true, onChange: true, onCancel: true } };
const invitable = { clientEmail: 'client@example.com', locationTimeZone: 'Europe/Madrid' };

describe('appointmentSync planning', () => {
  test('new appointment: every calendar is written (upsert); the first copy tells the attendees', () => {
    const r = round({ plan: plan([A, B]) });
    expect(writes(r)).toEqual(['cal:a:upsert!', 'cal:b:upsert']);
    expect(r.upToDate).toEqual([]);
    expect(r.notifying).toBe('cal:a');
  });

  test('update: a new revision rewrites the calendars that hold an older one', () => {
    const r = round({
      desired: desired({ revision: 2 }),
      plan: plan([A, B]),
      targets: [status(A, 'synced', 1), status(B, 'synced', 1)],
    });
    expect(writes(r)).toEqual(['cal:a:upsert!', 'cal:b:upsert']);
  });

  test('up-to-date targets are skipped; a failed or held one is written again', () => {
    const C = calendar('cal:c');
    const r = round({
      desired: desired({ revision: 2 }),
      plan: plan([A, B, C]),
      targets: [status(A, 'synced', 2), status(B, 'failed', 1), status(C, 'held', 2)],
    });
    expect(r.upToDate).toEqual(['cal:a']);
    expect(writes(r)).toEqual(['cal:b:upsert', 'cal:c:upsert']);
  });

  test('reassign: the old calendar loses the event, the new one gets it', () => {
    const r = round({
      desired: desired({ revision: 2, staffIds: ['ben'] }),
      plan: plan([B]),
      targets: [status(A, 'synced', 1)],
    });
    expect(writes(r)).toEqual(['cal:b:upsert!', 'cal:a:remove']);
  });

  test('an event already removed is not removed again', () => {
    const r = round({
      desired: desired({ revision: 3 }),
      plan: plan([B]),
      targets: [status(A, 'removed', 2, 'remove'), status(B, 'synced', 3)],
    });
    expect(r.writes).toEqual([]);
    expect(r.upToDate).toEqual(['cal:b']);
  });

  test('cancel with cancelledEvents remove: every calendar loses the event; the first that had it tells the attendees', () => {
    const r = round({
      desired: desired({ revision: 2, status: 'cancelled' }),
      plan: plan([A, B]),
      targets: [status(A, 'synced', 1), status(B, 'synced', 1)],
    });
    expect(writes(r)).toEqual(['cal:a:remove!', 'cal:b:remove']);
    expect(r.notifying).toBe('cal:a');
  });

  test('cancel with cancelledEvents keep: every calendar shows it cancelled (markCancelled)', () => {
    const r = round({
      desired: desired({ revision: 2, status: 'cancelled' }),
      plan: plan([A, B], {}, { cancelledEvents: 'keep' }),
      targets: [status(A, 'synced', 1), status(B, 'synced', 1)],
    });
    expect(writes(r)).toEqual(['cal:a:markCancelled!', 'cal:b:markCancelled']);
    const again = round({
      desired: desired({ revision: 2, status: 'cancelled' }),
      plan: plan([A], {}, { cancelledEvents: 'keep' }),
      targets: [status(A, 'synced', 2, 'markCancelled')],
    });
    expect(again.writes).toEqual([]);
    expect(again.upToDate).toEqual(['cal:a']);
  });

  test('delete: the event leaves every calendar', () => {
    const r = round({
      desired: desired({ revision: 2, deleted: true }),
      plan: plan([]),
      targets: [status(A, 'synced', 1), status(B, 'failed', 1)],
    });
    expect(writes(r)).toEqual(['cal:a:remove!', 'cal:b:remove']);
  });

  test('forced resync of one target rewrites only that one, even when in step', () => {
    const r = round({
      plan: plan([A, B]),
      targets: [status(A, 'synced', 1), status(B, 'synced', 1)],
      forced: new Set(['cal:b']),
    });
    expect(writes(r)).toEqual(['cal:b:upsert']);
    expect(r.upToDate).toEqual(['cal:a']);
  });

  test('forced resync of all targets rewrites every one, and removes again where removed', () => {
    const r = round({
      plan: plan([A]),
      targets: [status(A, 'synced', 1), status(B, 'removed', 1, 'remove')],
      forced: new Set([ALL_TARGETS]),
    });
    expect(writes(r)).toEqual(['cal:a:upsert!', 'cal:b:remove']);
  });

  test('notifying copy: the first wanted calendar; with none wanted, the first that had the event', () => {
    expect(round({ plan: plan([B, A]), targets: [status(A, 'synced', 0)] }).notifying).toBe('cal:b');
    const gone = round({
      desired: desired({ revision: 2, deleted: true }),
      plan: plan([]),
      targets: [status(invitation, 'synced', 1), status(B, 'synced', 1), status(A, 'synced', 1)],
    });
    expect(gone.notifying).toBe('cal:b');
    expect(writes(gone)).toEqual(['cal:b:remove!', 'cal:a:remove']);
  });

  test('invitation: a REQUEST on create, with every precondition met', () => {
    const r = round({ desired: desired(invitable), plan: plan([A], {}, invitationsOn) });
    expect(r.invitation).toMatchObject({ method: 'REQUEST', warnings: [] });
    expect(writes(r)).toEqual(['email:client:upsert', 'cal:a:upsert!']);
    expect(r.writes[0]!.spec.kind).toBe('invitation');
  });

  test('invitation: a REQUEST on change, nothing when the client already has this revision', () => {
    const sent = status(invitation, 'synced', 1);
    expect(
      round({ desired: desired({ ...invitable, revision: 2 }), plan: plan([], {}, invitationsOn), targets: [sent] })
        .invitation.method,
    ).toBe('REQUEST');
    const same = round({ desired: desired(invitable), plan: plan([], {}, invitationsOn), targets: [sent] });
    expect(same.invitation).toEqual({ warnings: [] });
    expect(same.writes).toEqual([]);
  });

  test('invitation: a CANCEL on cancel or delete, only when the client was invited', () => {
    const sent = status(invitation, 'synced', 1);
    for (const change of [{ status: 'cancelled' as const }, { deleted: true }]) {
      const r = round({
        desired: desired({ ...invitable, revision: 2, ...change }),
        plan: plan([], {}, invitationsOn),
        targets: [sent],
      });
      expect(r.invitation.method).toBe('CANCEL');
      expect(writes(r)).toEqual(['email:client:remove']);
      const never = round({
        desired: desired({ ...invitable, revision: 2, ...change }),
        plan: plan([], {}, invitationsOn),
      });
      expect(never.invitation).toEqual({ warnings: [] });
    }
  });

  test('invitation: each missing precondition is a warning and no mail', () => {
    const codes = (d: Partial<DesiredAppointment>, settings: Partial<TargetPlan['settings']>) => {
      const r = round({ desired: desired(d), plan: plan([], {}, settings) });
      expect(r.invitation.write).toBeUndefined();
      expect(r.invitation.method).toBeUndefined();
      return r.invitation.warnings.map((w) => w.code);
    };
    expect(
      codes(invitable, { clientInvitations: { enabled: false, onCreate: true, onChange: true, onCancel: true } }),
    ).toEqual(['client_invitations_off']);
    expect(
      codes(invitable, { clientInvitations: { enabled: true, onCreate: false, onChange: true, onCancel: true } }),
    ).toEqual(['client_invitations_off']);
    expect(codes({ locationTimeZone: 'Europe/Madrid' }, invitationsOn)).toEqual(['client_email_missing']);
    expect(codes({ clientEmail: 'client@example.com' }, invitationsOn)).toEqual(['location_time_zone_missing']);
    // A tenant without invitations, an appointment without a client e-mail: not even a warning.
    expect(codes({}, {})).toEqual([]);
  });

  test('warnings are recorded once per change: staff without a calendar, sync switched off, invitation preconditions', () => {
    const syncOff = { targetKey: 'sync', provider: 'none', code: 'appointment_sync_off', message: 'off' };
    const first = round({
      desired: desired({ clientEmail: 'client@example.com' }),
      plan: plan([], { staffWithoutCalendar: ['ann'], syncOff }, invitationsOn),
    });
    expect(first.record).toEqual({
      staffWithoutCalendar: ['ann'],
      warnings: [syncOff, expect.objectContaining({ code: 'location_time_zone_missing', provider: 'email' })],
    });
    const again = round({
      desired: desired({ clientEmail: 'client@example.com' }),
      plan: plan([], { staffWithoutCalendar: ['ann'], syncOff }, invitationsOn),
      logged: first.logged,
    });
    expect(again.record).toBeUndefined();
    const next = round({
      desired: desired({ clientEmail: 'client@example.com', revision: 2 }),
      plan: plan([], { staffWithoutCalendar: ['ann'], syncOff }, invitationsOn),
      logged: first.logged,
    });
    expect(next.record).toEqual({
      staffWithoutCalendar: [],
      warnings: [syncOff, expect.objectContaining({ code: 'location_time_zone_missing' })],
    });
    // A cancelled appointment needs no calendar: no staff warning.
    expect(
      round({ desired: desired({ status: 'cancelled' }), plan: plan([], { staffWithoutCalendar: ['ann'] }) }).record,
    ).toBeUndefined();
  });

  test('summary: failed beats held; held when writes wait for a reconnect; synced otherwise', () => {
    expect(summaryState([status(A, 'synced', 1), status(B, 'removed', 1, 'remove')])).toBe('synced');
    expect(summaryState([status(A, 'synced', 1), status(B, 'held', 0)])).toBe('held');
    expect(summaryState([status(A, 'failed', 0), status(B, 'held', 0)])).toBe('failed');
    expect(failedStatus(status(A, 'pending', null), 'link_needs_reauth', 'reconnect').state).toBe('held');
    expect(failedStatus(status(A, 'pending', null), 'forbidden', 'no').state).toBe('failed');
  });

  test('the CRM hears about a failure and about the recovery from one, not about every success', () => {
    expect(crmNotice('failed', undefined, true)).toBe('failed');
    expect(crmNotice('failed', 'failed', true)).toBeUndefined();
    expect(crmNotice('synced', 'failed', true)).toBe('synced');
    expect(crmNotice('synced', 'synced', true)).toBeUndefined();
    expect(crmNotice('failed', undefined, false)).toBeUndefined();
  });
});
