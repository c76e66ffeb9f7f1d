/** The provider-neutral event model: what calsync writes into a calendar and what it reads back to compare. */

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
