import type { DesiredAppointment } from '../lib/types';

export interface EventRef {
  calendarId: string;
  /** calsync's deterministic id of the appointment on this target: Google's event id; Graph's lookup key. */
  eventId: string;
  /** The id the provider gave the event on an earlier write, where it picks its own ids (Graph). */
  knownRemoteId?: string;
  /** calsync's tag of the appointment (`tenant:appointment`): finds an event whose id was never learned. */
  tag?: string;
  /** On delete: whether the provider tells the event's attendees it is cancelled (Google `sendUpdates`). */
  notifyAttendees?: boolean;
}

export type UpsertOutcome = 'inserted' | 'updated' | 'restored';
export type DeleteOutcome = 'deleted' | 'already_gone';

/** What an upsert did, and the event's id in that calendar (to store and use for later writes). */
export interface UpsertResult {
  outcome: UpsertOutcome;
  remoteId: string;
}

/** What calsync writes into a remote event, already rendered and provider-neutral. */
export interface EventContent {
  summary: string;
  description: string;
  location?: string;
  start: string;
  end: string;
  timeZone: string;
  tentative: boolean;
  /** A cancelled appointment kept visible: free time, marked in the title. */
  cancelled: boolean;
  /** calsync's tag on every event it owns, so an orphan can always be found. */
  tags: Record<string, string>;
  /** Whole days: the dates of `start` and `end` (end exclusive). */
  allDay?: boolean;
  attendees?: Array<{ email: string; name?: string; external: boolean }>;
  /**
   * Whether the provider tells attendees (Google `sendUpdates`). Outlook mails every attendee of
   * an event it stores, so without this Graph events carry only the internal attendees.
   */
  notifyAttendees?: boolean;
  /** Nothing attendees care about changed since they were told: Google mails nobody (Graph cannot hold back). */
  quiet?: boolean;
  /** Absent: the calendar's default reminders; empty: none. */
  reminders?: Array<{ method: 'popup' | 'email'; minutesBefore: number }>;
  /** Privacy mode: the event says only "Busy" and is marked private. */
  private?: boolean;
  /** A series: `start`–`end` is its first occurrence. */
  recurrence?: SeriesContent;
}

/** A recurring event: times are local ISO with the offset in `timeZone`, like `start` and `end`. */
export interface SeriesContent {
  /** RRULE value, without `RRULE:`. */
  rule: string;
  /** Original starts of the occurrences that are cancelled. */
  cancelled: string[];
  /** Occurrences that differ: their original start, own times and (when it differs) own title. */
  changed: Array<{ originalStart: string; start: string; end: string; summary?: string }>;
}

/** The small surface every calendar provider offers calsync. */
export interface CalendarProvider {
  upsertEvent(ref: EventRef, content: EventContent, opts: { believedToExist: boolean }): Promise<UpsertResult>;
  deleteEvent(ref: EventRef): Promise<DeleteOutcome>;
  /** One page of the events calsync owns in a calendar: those carrying the owner tag with this value. */
  listOwnedEvents(calendarId: string, owner: string, opts: { pageToken?: string; pageSize: number }): Promise<OwnedEventsPage>;
  /** One event by its remote id, as listed; undefined when it is gone (404, 410, or Google's `cancelled`). */
  getEventById(calendarId: string, remoteId: string): Promise<ObservedEvent | undefined>;
  /** Deletes one event by its remote id (an orphan): nothing else is touched, whatever its tags. */
  deleteEventById(calendarId: string, remoteId: string): Promise<DeleteOutcome>;
}

/**
 * A remote event calsync owns, as the provider shows it now, reduced to what calsync writes: what
 * reconciliation compares with the desired state. Times are epoch milliseconds.
 */
export interface ObservedEvent {
  remoteId: string;
  /** calsync's tag of the appointment (`tenant:appointment`), when present. */
  tag?: string;
  /** The owner tag (`tenant|target`); absent on events written before calsync tagged its owner. */
  owner?: string;
  /** When the event last changed, by anyone: an event just written is never judged an orphan. */
  updatedAt: number;
  summary: string;
  /** Undefined where the provider may reformat it (Graph turns text bodies into HTML). */
  description?: string;
  location: string;
  start: number;
  end: number;
  /** An all-day event's local dates (end exclusive): its instants depend on a zone the event does not keep. */
  allDay?: { start: string; end: string };
  /** busy, tentative or free: what the event does to the staff member's availability. */
  showAs: 'busy' | 'tentative' | 'free';
}

export interface OwnedEventsPage {
  events: ObservedEvent[];
  nextPageToken?: string;
}

export type { DesiredAppointment };

/**
 * The account's calendars, for a link's dedicated calendar: found by name (and, where the provider
 * keeps one, calsync's marker) before one is made, so a retried or repeated provisioning never makes two.
 */
export interface CalendarProvisioning {
  /** calsync's own calendar of this name (carrying its marker): a calendar of the user's is never taken for it. */
  findCalendar(name: string): Promise<string | undefined>;
  /**
   * Makes calsync's calendar, marked as its own (`owned`). Where the provider refuses a second
   * calendar of that name and the one there is not calsync's, that one is used without owning it:
   * calsync then removes only its events from it, never the calendar.
   */
  createCalendar(name: string): Promise<{ calendarId: string; owned: boolean }>;
  deleteCalendar(calendarId: string): Promise<DeleteOutcome>;
}

/** Access a team calendar's member gets: read its events, or also change them. */
export type ShareRole = 'read' | 'write';

/** One person a calendar is shared with, as the provider lists it (`other`: a role calsync does not give). */
export interface CalendarShare {
  id: string;
  email: string;
  role: ShareRole | 'other';
}

/** Sharing a calendar with people (Google ACL rules, Graph calendarPermissions), without mailing them. */
export interface CalendarSharing {
  listShares(calendarId: string): Promise<CalendarShare[]>;
  /** Shares with `email`, or changes the role of its existing share `existingId`. */
  share(calendarId: string, email: string, role: ShareRole, existingId?: string): Promise<void>;
  unshare(calendarId: string, shareId: string): Promise<void>;
}

/** What a dedicated calendar's description says (Google keeps one): calsync made it and may delete it. */
export const DEDICATED_CALENDAR_MARKER = 'Appointments kept in step by calsync. Removing the connection removes this calendar.';
