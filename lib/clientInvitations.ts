import { createHash } from 'node:crypto';
import { remoteEventId } from './remoteIds';
import type { DesiredAppointment, TargetSpec } from './types';

/** The client's e-mail invitation as a sync target: one per appointment. */
export const CLIENT_INVITATION_TARGET_KEY = 'email:client';

/** The "provider" of the client's invitation target: e-mail, beside the calendar providers' names. */
export const CLIENT_INVITATION_PROVIDER = 'email';

export type InvitationMethod = 'REQUEST' | 'CANCEL';

/** The iCalendar UID of an appointment's invitation: stable forever, whatever changes or whoever is invited. */
export function clientInvitationUid(tenantId: string, appointmentId: string): string {
  return `${remoteEventId(tenantId, appointmentId, CLIENT_INVITATION_TARGET_KEY)}@calsync`;
}

export function clientInvitationTarget(tenantId: string, appointmentId: string): TargetSpec {
  return {
    targetKey: CLIENT_INVITATION_TARGET_KEY,
    kind: 'invitation',
    provider: CLIENT_INVITATION_PROVIDER,
    linkId: '',
    calendarId: '',
    remoteId: clientInvitationUid(tenantId, appointmentId),
  };
}

/** Whether the client's calendar should lose the event: a cancelled or deleted appointment. */
export function invitationEnded(desired: DesiredAppointment): boolean {
  return desired.deleted || desired.status === 'cancelled';
}

/** What the event is called in the client's calendar. */
export function invitationTitle(desired: DesiredAppointment): string {
  return desired.title?.trim() || desired.services.join(', ') || 'Appointment';
}

/**
 * The part of an appointment its client sees. Internal notes (description), staff, status labels
 * and the CRM's own time zone are left out, so changing them sends no mail.
 */
export function clientVisibleContent(desired: DesiredAppointment) {
  return {
    start: desired.start,
    end: desired.end,
    timeZone: desired.locationTimeZone ?? null,
    title: invitationTitle(desired),
    services: desired.services,
    location: desired.location ?? null,
    cancelled: invitationEnded(desired),
    // Absent for single appointments, so their recorded hashes stay the same.
    ...(desired.recurrence ? { recurrence: desired.recurrence } : {}),
  };
}

/** The hash a sent message is recorded with: same hash, nothing new for the client. */
export function invitationHash(method: InvitationMethod, email: string, desired: DesiredAppointment): string {
  const content = { method, email: email.toLowerCase(), ...clientVisibleContent(desired) };
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

/** A deterministic Message-ID: a resend of the same sequence is recognisably the same message. */
export function invitationMessageId(
  tenantId: string,
  appointmentId: string,
  sequence: number,
  method: InvitationMethod,
  fromAddress: string,
): string {
  const digest = createHash('sha256')
    .update(`${tenantId}\u0000${appointmentId}\u0000${sequence}\u0000${method}`)
    .digest('hex')
    .slice(0, 32);
  const domain = fromAddress.split('@')[1]?.replace(/[>\s]/g, '') || 'calsync.localhost';
  return `<invite.${digest}.${sequence}@${domain}>`;
}
