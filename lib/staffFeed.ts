import ical, { ICalEventStatus } from 'ical-generator';
import { DateTime } from 'luxon';
import type { DesiredAppointment } from './types';
import { icalTimes } from './icalTimes';
import { icalSeries } from './recurrence';
import { vtimezone } from './vtimezone';

/** How much of each appointment a subscription feed shows: a tenant setting. */
export type FeedDetail = 'full' | 'title' | 'busy';

/**
 * A staff member's appointments as an iCalendar subscription (Apple Calendar, Thunderbird, anything
 * that subscribes to a URL). UIDs are stable and SEQUENCE is the revision, so clients update events
 * in place; cancelled and deleted appointments are simply absent.
 */
export function renderStaffFeed(input: {
  name: string;
  appointments: DesiredAppointment[];
  detail: FeedDetail;
  tenantId: string;
}): string {
  const calendar = ical({ name: input.name, prodId: { company: 'calsync', product: 'staff-feed' }, ttl: 15 * 60 });
  const zones = new Map<string, string>();
  for (const a of input.appointments) {
    const zone = vtimezone(a.timeZone);
    if (zone) zones.set(zone.tzid, zone.block);
  }
  calendar.timezone({ name: null, generator: (tz) => zones.get(tz) ?? null });
  for (const a of input.appointments) {
    const what = a.title?.trim() || a.services.join(', ') || 'Appointment';
    const summary =
      input.detail === 'busy' ? 'Busy' : input.detail === 'full' && a.clientName ? `${what} – ${a.clientName}` : what;
    const tzid = vtimezone(a.timeZone)?.tzid ?? null;
    const inZone = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' }).setZone(a.timeZone);
    const event = {
      id: `${a.appointmentId}@${input.tenantId}.calsync`,
      sequence: a.revision,
      stamp: DateTime.utc(),
      summary,
      description: input.detail === 'full' ? (a.description ?? null) : null,
      location: input.detail === 'busy' ? null : (a.location ?? null),
      status: a.status === 'tentative' ? ICalEventStatus.TENTATIVE : ICalEventStatus.CONFIRMED,
    };
    const series = icalSeries(a);
    calendar.createEvent({
      ...event,
      ...icalTimes({ start: inZone(a.start), end: inZone(a.end) }, a.allDay, tzid),
      ...(series ? { repeating: series.repeating } : {}),
    });
    // A changed occurrence is its own VEVENT with the series' UID and its RECURRENCE-ID.
    for (const c of series?.changed ?? []) {
      calendar.createEvent({
        ...event,
        ...icalTimes(c, a.allDay, tzid),
        summary: input.detail === 'busy' || !c.title ? summary : c.title,
      });
    }
  }
  return calendar.toString();
}
