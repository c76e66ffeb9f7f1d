import type { DesiredAppointment } from '../lib/types';

export interface EventRef {
  calendarId: string;
  /** calsync's deterministic id of the appointment on this target: Google's event id; Graph's lookup key. */
  eventId: string;
  /** The id the provider gave the event on an earlier write, where it picks its own ids (Graph). */
  knownRemoteId?: string;
  /** calsync's tag of the appointment (`tenant:appointment`): finds an event whose id was never learned. */
  tag?: string;
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
}

/** The small surface every calendar provider offers calsync. */
export interface CalendarProvider {
  upsertEvent(ref: EventRef, content: EventContent, opts: { believedToExist: boolean }): Promise<UpsertResult>;
  deleteEvent(ref: EventRef): Promise<DeleteOutcome>;
}

export type { DesiredAppointment };
