import type { DesiredAppointment } from '../lib/types';

export interface EventRef {
  calendarId: string;
  eventId: string;
}

export type UpsertOutcome = 'inserted' | 'updated' | 'restored';
export type DeleteOutcome = 'deleted' | 'already_gone';

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
  upsertEvent(ref: EventRef, content: EventContent, opts: { believedToExist: boolean }): Promise<UpsertOutcome>;
  deleteEvent(ref: EventRef): Promise<DeleteOutcome>;
}

export type { DesiredAppointment };
