import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import type { EventContent } from '../types';

/** A link's calendarId that means the mailbox's default calendar (`/me/calendar`). */
export const MICROSOFT_DEFAULT_CALENDAR = 'calendar';

/** calsync's property set: every tag is a single-value extended property `String {this GUID} Name <tag>`. */
export const CALSYNC_PROPERTY_SET = 'ab4bac7f-a055-4125-8dea-4e946c2d6987';
/** The target's deterministic id: tells this target's event from another target's in a shared calendar. */
export const TARGET_TAG = 'calsyncTarget';

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
  singleValueExtendedProperties: Array<{ id: string; value: string }>;
}

/** Graph wants wall-clock time without an offset, plus the zone it is in. */
function local(isoWithOffset: string): string {
  return DateTime.fromISO(isoWithOffset, { setZone: true }).toFormat("yyyy-MM-dd'T'HH:mm:ss");
}

/** calsync's event content as a Graph event: the whole writable state, so a PATCH replaces it all. */
export function toGraphEvent(content: EventContent, targetKey: string): GraphEventBody {
  return {
    subject: content.summary,
    body: { contentType: 'text', content: content.description },
    start: { dateTime: local(content.start), timeZone: content.timeZone },
    end: { dateTime: local(content.end), timeZone: content.timeZone },
    // An empty name clears a location an earlier revision set.
    location: { displayName: content.location ?? '' },
    // A cancelled visit that stays visible must not block the staff member's time.
    showAs: content.cancelled ? 'free' : content.tentative ? 'tentative' : 'busy',
    singleValueExtendedProperties: [...Object.entries(content.tags), [TARGET_TAG, targetKey]].map(([tag, value]) => ({ id: propertyId(tag), value })),
  };
}

/**
 * The transactionId of a create: the same for every retry of one write (same target, revision and
 * mode), so Graph answers a retried create with the event the lost answer was about. A later
 * revision gets another one, so an event deleted since can never be handed back whatever Graph's
 * dedup window (those creates look for calsync's tag first).
 */
export function transactionIdFor(targetKey: string, content: EventContent): string {
  const hex = createHash('sha256').update(`${targetKey}\u0000${content.tags.calsyncRevision ?? ''}\u0000${content.cancelled ? 'cancelled' : 'live'}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
