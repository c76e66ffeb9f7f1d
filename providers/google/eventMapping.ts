import type { calendar_v3 } from 'googleapis';
import { DateTime } from 'luxon';
import { CALSYNC_TAG, OWNER_TAG } from '../../content/eventContent';
import type { EventContent, ObservedEvent } from '../types';

type EventKind = Pick<EventContent, 'timeZone' | 'allDay'>;

/**
 * A local ISO time of the content as Google's EventDateTime: all-day events are dates (Google's end
 * date is exclusive, as calsync's is), others a date-time in the content's zone.
 */
export function googleTime(content: EventKind, iso: string): calendar_v3.Schema$EventDateTime {
  return content.allDay ? { date: iso.slice(0, 10) } : { dateTime: iso, timeZone: content.timeZone };
}

/** calsync's event content as a Google Calendar event resource (a full replacement body). */
export function toGoogleEvent(eventId: string, content: EventContent): calendar_v3.Schema$Event {
  const time = (iso: string) => googleTime(content, iso);
  return {
    id: eventId,
    status: content.tentative && !content.cancelled ? 'tentative' : 'confirmed',
    summary: content.summary,
    description: content.description,
    ...(content.location ? { location: content.location } : {}),
    start: time(content.start),
    end: time(content.end),
    // A cancelled visit that stays visible must not block the staff member's time.
    transparency: content.cancelled ? 'transparent' : 'opaque',
    ...(content.private ? { visibility: 'private' } : {}),
    // A full update replaces the list: an attendee dropped in the CRM leaves the event.
    attendees: (content.attendees ?? []).map((a) => ({ email: a.email, ...(a.name ? { displayName: a.name } : {}) })),
    extendedProperties: { private: content.tags },
    reminders: content.reminders
      ? { useDefault: false, overrides: content.reminders.map((r) => ({ method: r.method, minutes: r.minutesBefore })) }
      : { useDefault: true },
    ...(content.recurrence ? { recurrence: googleRecurrence(content) } : {}),
  };
}

/**
 * A series' RRULE, and its cancelled occurrences as one EXDATE: local times in the series' zone,
 * or for an all-day series their dates (VALUE=DATE, the value type of its start).
 */
function googleRecurrence(content: EventContent): string[] {
  const series = content.recurrence!;
  const lines = [`RRULE:${series.rule}`];
  if (series.cancelled.length) {
    const local = series.cancelled.map((iso) => DateTime.fromISO(iso, { setZone: true }).setZone(content.timeZone));
    lines.push(
      content.allDay
        ? `EXDATE;VALUE=DATE:${local.map((d) => d.toFormat('yyyyMMdd')).join(',')}`
        : `EXDATE;TZID=${content.timeZone}:${local.map((d) => d.toFormat("yyyyMMdd'T'HHmmss")).join(',')}`,
    );
  }
  return lines;
}

/** Google's id of one instance of a series: the series id and the original start in UTC (its date, all day). */
export function googleInstanceId(eventId: string, originalStart: string, allDay?: boolean): string {
  const original = DateTime.fromISO(originalStart, { setZone: true });
  return `${eventId}_${allDay ? original.toFormat('yyyyMMdd') : original.toUTC().toFormat("yyyyMMdd'T'HHmmss'Z'")}`;
}

/**
 * One instance of a series as an exception: the series' body with the instance's own times and
 * title (an instance takes no recurrence of its own).
 */
export function googleInstanceBody(
  series: calendar_v3.Schema$Event,
  eventId: string,
  originalStart: string,
  kind: EventKind,
  own: { start: string; end: string; summary?: string },
): calendar_v3.Schema$Event {
  const { id: _id, recurrence: _recurrence, ...rest } = series;
  return {
    ...rest,
    id: googleInstanceId(eventId, originalStart, kind.allDay),
    recurringEventId: eventId,
    originalStartTime: googleTime(kind, originalStart),
    start: googleTime(kind, own.start),
    end: googleTime(kind, own.end),
    summary: own.summary ?? series.summary,
  };
}

/** An event as Google lists it, reduced to what calsync writes (for reconciliation). */
export function observedFromGoogle(event: calendar_v3.Schema$Event): ObservedEvent {
  const instant = (t: calendar_v3.Schema$EventDateTime | undefined) => Date.parse(t?.dateTime ?? t?.date ?? '');
  return {
    remoteId: event.id!,
    tag: event.extendedProperties?.private?.[CALSYNC_TAG],
    owner: event.extendedProperties?.private?.[OWNER_TAG],
    updatedAt: Date.parse(event.updated ?? '') || 0,
    summary: event.summary ?? '',
    description: event.description ?? '',
    location: event.location ?? '',
    start: instant(event.start),
    end: instant(event.end),
    ...(event.start?.date && event.end?.date ? { allDay: { start: event.start.date, end: event.end.date } } : {}),
    showAs: event.transparency === 'transparent' ? 'free' : event.status === 'tentative' ? 'tentative' : 'busy',
  };
}

/**
 * Google mails attendees only when asked; calsync asks on the one copy that should tell them, and
 * only its external guests (`notifyExternal`): internal ones see the event in their own calendars.
 */
export function sendUpdatesFor(notify: boolean | undefined): 'externalOnly' | 'none' {
  return notify ? 'externalOnly' : 'none';
}
