import { DateTime } from 'luxon';
import type { DesiredAppointment } from '../lib/types';
import type { EventContent } from './types';

export const CALSYNC_TAG = 'calsyncId';

/** The value of calsync's tag on every event of one appointment. */
export function calsyncTag(tenantId: string, appointmentId: string): string {
  return `${tenantId}:${appointmentId}`;
}

const statusLabels: Record<DesiredAppointment['status'], string> = {
  scheduled: 'Scheduled',
  confirmed: 'Confirmed',
  tentative: 'Tentative',
  completed: 'Completed',
  no_show: 'No-show',
  cancelled: 'Cancelled',
};

/** Renders the Versum fields (client, services, status, description) into title and body. */
export function renderEventContent(desired: DesiredAppointment, opts: { cancelled: boolean }): EventContent {
  const what = desired.title?.trim() || desired.services.join(', ') || 'Appointment';
  const title = desired.clientName ? `${what} – ${desired.clientName}` : what;
  const lines = [
    desired.clientName ? `Client: ${desired.clientName}` : undefined,
    desired.services.length ? `Services: ${desired.services.join(', ')}` : undefined,
    `Status: ${statusLabels[desired.status]}`,
    desired.description ? `\n${desired.description}` : undefined,
  ].filter((line): line is string => line !== undefined);
  return {
    summary: opts.cancelled ? `Cancelled: ${title}` : title,
    description: lines.join('\n'),
    location: desired.location,
    start: wallClock(desired.start, desired.timeZone),
    end: wallClock(desired.end, desired.timeZone),
    timeZone: desired.timeZone,
    tentative: desired.status === 'tentative',
    cancelled: opts.cancelled,
    tags: {
      [CALSYNC_TAG]: calsyncTag(desired.tenantId, desired.appointmentId),
      calsyncType: desired.type,
      calsyncRevision: String(desired.revision),
    },
  };
}

/** The instant as local time with its offset in the appointment's zone: what calendars display. */
function wallClock(instant: string, timeZone: string): string {
  return DateTime.fromISO(instant, { zone: 'utc' }).setZone(timeZone).toISO({ suppressMilliseconds: true })!;
}
