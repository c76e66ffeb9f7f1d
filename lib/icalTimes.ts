import type { ICalEventData } from 'ical-generator';
import type { DateTime } from 'luxon';

/** One VEVENT's times: start, end and, for a changed occurrence of a series, the occurrence it replaces. */
export interface EventTimes {
  start: DateTime;
  end: DateTime;
  recurrenceId?: DateTime;
}

/**
 * The times of one VEVENT as ical-generator takes them (staff feeds, client invitations).
 * All-day: DTSTART, DTEND and RECURRENCE-ID are VALUE=DATE, the dates the times have in their own
 * zone (the appointment's), whatever zone `tzid` names. Otherwise instants written in `tzid`.
 */
export function icalTimes(
  times: EventTimes,
  allDay: boolean | undefined,
  tzid: string | null,
): Pick<ICalEventData, 'start' | 'end'> & Partial<ICalEventData> {
  if (!allDay) {
    return {
      start: times.start,
      end: times.end,
      timezone: tzid,
      ...(times.recurrenceId ? { recurrenceId: times.recurrenceId } : {}),
    };
  }
  return {
    allDay: true,
    start: times.start,
    end: times.end,
    // ical-generator formats a Luxon date in its own zone only when the event has none.
    timezone: null,
    // ical-generator writes RECURRENCE-ID as a date-time only; a raw property keeps it a DATE (tuples skip its X- check).
    ...(times.recurrenceId
      ? { x: [['RECURRENCE-ID;VALUE=DATE', times.recurrenceId.toFormat('yyyyMMdd')]] as [string, string][] }
      : {}),
  };
}
