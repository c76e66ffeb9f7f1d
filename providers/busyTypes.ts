/** Busy time as calsync imports it from a staff calendar: an interval and whether it blocks, nothing else. */
export type ShowAs = 'busy' | 'tentative' | 'oof' | 'free';

export interface ImportedEvent {
  /** The provider's id of the event, or of one occurrence of a series. */
  remoteId: string;
  seriesId?: string;
  start: Date;
  end: Date;
  allDay: boolean;
  showAs: ShowAs;
  /** Only kept when the tenant asks for titles. */
  title?: string;
}

/**
 * One sync pass over a calendar: what changed (everything, after a full sync) and the cursor to
 * continue from. `full`: the pass listed the whole calendar, so anything not in it is gone.
 */
export interface ImportPass {
  full: boolean;
  upserts: ImportedEvent[];
  /** Ids of events (or occurrences) that are gone or must not be counted (calsync's own, cancelled). */
  removed: string[];
  /** Ids of series whose stored occurrences all go: gone as a whole, or listed again in full in `upserts`. */
  removedSeries: string[];
  /** Events left out because they cannot be read right (an unknown time zone): a warning each, with the reason. */
  skipped?: Array<{ remoteId: string; reason: string }>;
  /** Events imported only in part (a series cut at a bound): the calendar's import shows why. */
  incomplete?: Array<{ remoteId: string; reason: string }>;
  cursor: string;
}

/** The cursor is no longer valid (Google 410 fullSyncRequired, Graph's expired delta link): sync in full. */
export class CursorExpired extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CursorExpired';
  }
}

/** A push channel (Google) or subscription (Graph) as created or renewed. */
export interface PushChannel {
  id: string;
  resourceId?: string;
  expiresAt: Date;
}

export interface BusyReader {
  /** A pass: incremental from `cursor`, or full (no cursor) over `window` (Graph needs one; Google lists unbounded). */
  read(calendarId: string, cursor: string | undefined, window: { start: Date; end: Date }): Promise<ImportPass>;
  /** Asks the provider to push change notifications for the calendar to `address`. */
  watch(
    calendarId: string,
    input: { channelId: string; address: string; secret: string; expiresAt: Date },
  ): Promise<PushChannel>;
  /** Extends a channel's life, when the provider allows it (Graph); false: make a new one instead. */
  renew(channel: { id: string; resourceId?: string }, expiresAt: Date): Promise<PushChannel | false>;
  stop(channel: { id: string; resourceId?: string }): Promise<void>;
}
