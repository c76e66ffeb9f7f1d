import type { DesiredAppointment } from '../lib/types';
import type { EventContent, ObservedEvent } from '../content/types';

export type { EventContent, ObservedEvent, SeriesContent } from '../content/types';

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
