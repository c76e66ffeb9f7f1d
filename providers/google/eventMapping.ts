import type { calendar_v3 } from 'googleapis';
import type { EventContent } from '../types';

/** calsync's event content as a Google Calendar event resource (a full replacement body). */
export function toGoogleEvent(eventId: string, content: EventContent): calendar_v3.Schema$Event {
  return {
    id: eventId,
    status: content.tentative && !content.cancelled ? 'tentative' : 'confirmed',
    summary: content.summary,
    description: content.description,
    ...(content.location ? { location: content.location } : {}),
    start: { dateTime: content.start, timeZone: content.timeZone },
    end: { dateTime: content.end, timeZone: content.timeZone },
    // A cancelled visit that stays visible must not block the staff member's time.
    transparency: content.cancelled ? 'transparent' : 'opaque',
    extendedProperties: { private: content.tags },
    reminders: { useDefault: true },
  };
}
