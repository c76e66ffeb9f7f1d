import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import { toGraphRecurrence, type GraphPatternedRecurrence } from './recurrence';
import { graphZoneOf, ianaZoneOf } from './zones';
import { CALSYNC_TAG, OWNER_TAG } from '../../content/eventContent';
import type { EventContent, ObservedEvent } from '../types';

/** A link's calendarId that means the mailbox's default calendar (`/me/calendar`). */
export const MICROSOFT_DEFAULT_CALENDAR = 'calendar';

/** calsync's property set: every tag is a single-value extended property `String {this GUID} Name <tag>`. */
export const CALSYNC_PROPERTY_SET = 'ab4bac7f-a055-4125-8dea-4e946c2d6987';
/** The target's deterministic id: tells this target's event from another target's in a shared calendar. */
export const TARGET_TAG = 'calsyncTarget';

/** On a calendar: calsync made it (the value is DEDICATED_CALENDAR_MARKER), so disconnecting may delete it. */
export const CALENDAR_MARKER_TAG = 'calsyncCalendar';

export function propertyId(tag: string): string {
  return `String {${CALSYNC_PROPERTY_SET}} Name ${tag}`;
}

export interface GraphEventBody {
  subject: string;
  body: { contentType: 'text'; content: string };
  start: { dateTime: string; timeZone: string };
  end: { dateTime: string; timeZone: string };
  location: { displayName: string };
  showAs: 'free' | 'tentative' | 'busy';
  isAllDay: boolean;
  sensitivity: 'normal' | 'private';
  attendees: Array<{ emailAddress: { address: string; name?: string }; type: 'required' }>;
  isReminderOn?: boolean;
  reminderMinutesBeforeStart?: number;
  singleValueExtendedProperties: Array<{ id: string; value: string }>;
  /** A series master's pattern and range. */
  recurrence?: GraphPatternedRecurrence;
}

/**
 * The date an all-day time of Graph's stands for, in the event's zone `zone`. Graph may show an
 * all-day midnight as that zone's midnight in the answer's zone, or as a floating midnight (the
 * date at 00:00 whatever the zone): a time at midnight is read as floating, any other converted.
 * Both readings give the same date.
 */
export function graphAllDayDate(t: { dateTime: string; timeZone: string }, zone: string): string {
  const shown = DateTime.fromISO(t.dateTime.slice(0, 19), { zone: ianaZoneOf(t.timeZone) ?? 'utc' });
  return (shown.hour === 0 && shown.minute === 0 ? shown : shown.setZone(zone)).toISODate()!;
}

/** Graph wants wall-clock time without an offset, plus the zone it is in. */
export function local(isoWithOffset: string): string {
  return DateTime.fromISO(isoWithOffset, { setZone: true }).toFormat("yyyy-MM-dd'T'HH:mm:ss");
}

/**
 * Outlook mails every attendee of an event it stores (there is no sendUpdates=none), so an
 * attendee on a Graph event is a notification. Only the organizer copy has attendees at all
 * (content/eventContent.ts): there the internal ones (the tenant's own people) always, the
 * external ones only when the tenant notifies them (`notifyExternal`).
 */
function graphAttendees(content: EventContent): GraphEventBody['attendees'] {
  return (content.attendees ?? [])
    .filter((a) => !a.external || content.notifyAttendees)
    .map((a) => ({
      emailAddress: { address: a.email, ...(a.name ? { name: a.name } : {}) },
      type: 'required' as const,
    }));
}

/** Graph holds one reminder per event: the earliest asked for. */
function graphReminder(content: EventContent): Pick<GraphEventBody, 'isReminderOn' | 'reminderMinutesBeforeStart'> {
  if (!content.reminders) return { isReminderOn: true, reminderMinutesBeforeStart: 15 }; // Outlook's default
  if (content.reminders.length === 0) return { isReminderOn: false };
  return { isReminderOn: true, reminderMinutesBeforeStart: Math.max(...content.reminders.map((r) => r.minutesBefore)) };
}

/** calsync's event content as a Graph event: the whole writable state, so a PATCH replaces it all. */
export function toGraphEvent(content: EventContent, targetKey: string): GraphEventBody {
  // All-day events run midnight to midnight in their zone.
  const time = (iso: string) => (content.allDay ? `${iso.slice(0, 10)}T00:00:00` : local(iso));
  return {
    subject: content.summary,
    body: { contentType: 'text', content: content.description },
    // Windows names: Graph refuses IANA names off its list (Europe/Madrid, America/Toronto).
    start: { dateTime: time(content.start), timeZone: graphZoneOf(content.timeZone) },
    end: { dateTime: time(content.end), timeZone: graphZoneOf(content.timeZone) },
    isAllDay: content.allDay ?? false,
    sensitivity: content.private ? 'private' : 'normal',
    attendees: graphAttendees(content),
    ...graphReminder(content),
    // An empty name clears a location an earlier revision set.
    location: { displayName: content.location ?? '' },
    // A cancelled visit that stays visible must not block the staff member's time.
    showAs: content.cancelled ? 'free' : content.tentative ? 'tentative' : 'busy',
    singleValueExtendedProperties: [...Object.entries(content.tags), [TARGET_TAG, targetKey]].map(([tag, value]) => ({
      id: propertyId(tag),
      value,
    })),
    // A series: its occurrences' exceptions are written after it (providers/microsoft/seriesExceptions.ts).
    ...(content.recurrence
      ? {
          recurrence: toGraphRecurrence(
            content.recurrence.rule,
            DateTime.fromISO(content.start, { setZone: true }).setZone(content.timeZone),
          ),
        }
      : {}),
  };
}

/**
 * The transactionId of a create: the same for every retry of one write (same target, revision,
 * mode and the event it replaces), so Graph answers a retried create with the event the lost
 * answer was about. Graph answers a repeated transactionId with the earlier event even after that
 * event was deleted (it sits in Deleted Items), so a create that replaces an event deleted by hand
 * (`replacing`: its id) gets a new one: a restore is a new event, never the deleted one handed back.
 */
export function transactionIdFor(
  targetKey: string,
  content: EventContent,
  remake?: 'remade',
  replacing?: string,
): string {
  const hex = createHash('sha256')
    .update(
      `${targetKey}\u0000${content.tags.calsyncRevision ?? ''}\u0000${content.cancelled ? 'cancelled' : 'live'}${remake ? '\u0000remade' : ''}${replacing ? `\u0000replacing ${replacing}` : ''}`,
    )
    .digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The fields and tags reconciliation reads from Graph: `$select` and `$expand` of a list or get. */
export const OBSERVED_SELECT =
  'id,subject,start,end,isAllDay,originalStartTimeZone,location,showAs,lastModifiedDateTime';
export function observedExpand(literal: (value: string) => string): string {
  return `singleValueExtendedProperties($filter=id eq ${literal(propertyId(CALSYNC_TAG))} or id eq ${literal(propertyId(OWNER_TAG))})`;
}

/** A listed Graph event (with calsync's tag expanded), as the fields reconciliation compares. */
export interface GraphListedEvent {
  id: string;
  subject?: string;
  start?: { dateTime: string; timeZone: string };
  end?: { dateTime: string; timeZone: string };
  isAllDay?: boolean;
  /** The zone the event was written in (IANA from calsync; Outlook itself may write a Windows name). */
  originalStartTimeZone?: string;
  location?: { displayName?: string };
  showAs?: string;
  lastModifiedDateTime?: string;
  singleValueExtendedProperties?: Array<{ id: string; value: string }>;
}

/** An all-day event's dates; a zone luxon does not know (a Windows name) reads the times as they are shown. */
function allDayDates(
  start: { dateTime: string; timeZone: string },
  end: { dateTime: string; timeZone: string },
  writtenIn: string | undefined,
) {
  const zone = ianaZoneOf(writtenIn) ?? ianaZoneOf(start.timeZone) ?? start.timeZone;
  return { start: graphAllDayDate(start, zone), end: graphAllDayDate(end, zone) };
}

/**
 * A Graph event reduced to what calsync writes. Graph answers in UTC unless asked otherwise; the
 * body is left out (Graph may hand a text body back as HTML, which is not a person's change).
 */
export function observedFromGraph(event: GraphListedEvent): ObservedEvent {
  const instant = (t: { dateTime: string; timeZone: string } | undefined) =>
    t ? DateTime.fromISO(t.dateTime, { zone: ianaZoneOf(t.timeZone) ?? 'utc' }).toMillis() : Number.NaN;
  const valueOf = (tag: string) =>
    event.singleValueExtendedProperties?.find((p) => p.id.toLowerCase() === propertyId(tag).toLowerCase())?.value;
  const showAs = event.showAs === 'free' || event.showAs === 'tentative' ? event.showAs : 'busy';
  return {
    remoteId: event.id,
    tag: valueOf(CALSYNC_TAG),
    owner: valueOf(OWNER_TAG),
    updatedAt: Date.parse(event.lastModifiedDateTime ?? '') || 0,
    summary: event.subject ?? '',
    location: event.location?.displayName ?? '',
    start: instant(event.start),
    end: instant(event.end),
    ...(event.isAllDay && event.start && event.end
      ? { allDay: allDayDates(event.start, event.end, event.originalStartTimeZone) }
      : {}),
    showAs,
  };
}
