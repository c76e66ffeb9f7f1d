import type { DesiredAppointment } from './types';
import {
  appointmentEvents,
  calendar,
  integerProp,
  stampProp,
  stringifyCalendar,
  textProp,
  yearsOf,
  zoneOf,
} from './ical';

/** How much of each appointment a subscription feed shows: a tenant setting. */
export type FeedDetail = 'full' | 'title' | 'busy';

/** One appointment of a feed, with calsync's own change counter for it (SEQUENCE). */
export interface FeedAppointment {
  desired: DesiredAppointment;
  /** calsync's count of accepted changes (bounded, 32-bit): never the CRM's revision. */
  sequence: number;
}

/**
 * A staff member's appointments as an iCalendar subscription (Apple Calendar, Thunderbird, anything
 * that subscribes to a URL). UIDs are stable and SEQUENCE rises with every accepted change, so
 * clients update events in place; cancelled and deleted appointments are simply absent.
 */
export function renderStaffFeed(input: {
  name: string;
  appointments: FeedAppointment[];
  detail: FeedDetail;
  tenantId: string;
}): string {
  const stamp = stampProp();
  const events = input.appointments.flatMap(({ desired: a, sequence }) => {
    const what = a.title?.trim() || a.services.join(', ') || 'Appointment';
    const summary =
      input.detail === 'busy' ? 'Busy' : input.detail === 'full' && a.clientName ? `${what} – ${a.clientName}` : what;
    // A changed occurrence is its own VEVENT with the series' UID and its RECURRENCE-ID.
    return appointmentEvents(a, (changed) => [
      textProp('uid', `${a.appointmentId}@${input.tenantId}.calsync`),
      integerProp('sequence', sequence),
      stamp,
      textProp('summary', input.detail === 'busy' || !changed?.title ? summary : changed.title),
      ...(input.detail === 'full' && a.description ? [textProp('description', a.description)] : []),
      ...(input.detail !== 'busy' && a.location ? [textProp('location', a.location)] : []),
      textProp('status', a.status === 'tentative' ? 'TENTATIVE' : 'CONFIRMED'),
    ]);
  });
  const spans = input.appointments.map(({ desired }) => yearsOf(desired));
  const now = new Date().getUTCFullYear();
  const years = {
    from: Math.min(now, ...spans.map((s) => s.from)),
    to: Math.max(now, ...spans.map((s) => s.to)),
  };
  const zones = input.appointments
    .filter(({ desired }) => !desired.allDay)
    .map(({ desired }) => zoneOf(desired))
    .filter((z): z is string => z !== null);
  return stringifyCalendar(
    calendar(
      [
        textProp('prodid', '-//calsync//staff-feed//EN'),
        textProp('name', input.name),
        textProp('x-wr-calname', input.name),
        ['refresh-interval', { value: 'DURATION' }, 'duration', 'PT15M'],
        ['x-published-ttl', {}, 'unknown', 'PT15M'],
      ],
      events,
      zones,
      years,
    ),
  );
}
