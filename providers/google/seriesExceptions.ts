import type { calendar_v3 } from 'googleapis';
import { DateTime } from 'luxon';
import type { EventContent, EventRef } from '../types';
import { googleInstanceBody, googleInstanceId, sendUpdatesFor, toGoogleEvent } from './eventMapping';

/** The two calls a series' exceptions need (the provider supplies them, timed and paced). */
export interface GoogleSeriesApi {
  listInstances(calendarId: string, eventId: string, pageToken?: string): Promise<calendar_v3.Schema$Events>;
  updateInstance(calendarId: string, body: calendar_v3.Schema$Event, sendUpdates: 'all' | 'none'): Promise<void>;
}

const instant = (t: calendar_v3.Schema$EventDateTime | undefined) => Date.parse(t?.dateTime ?? t?.date ?? '');

/**
 * After the series itself is written (cancelled occurrences are its EXDATE), makes its instances
 * match the exceptions: each changed occurrence is written as an instance override (its instance
 * id, `recurringEventId`, `originalStartTime`), and an instance overridden earlier that is no longer
 * an exception is put back on the pattern. A full update per instance, so a retry is harmless.
 */
export async function writeGoogleExceptions(api: GoogleSeriesApi, ref: EventRef, content: EventContent): Promise<void> {
  const series = content.recurrence!;
  const master = toGoogleEvent(ref.eventId, content);
  const sendUpdates = sendUpdatesFor(content.notifyAttendees && !content.quiet);
  const changed = new Map(series.changed.map((c) => [googleInstanceId(ref.eventId, c.originalStart), c]));
  const lengthMs = Date.parse(content.end) - Date.parse(content.start);

  let pageToken: string | undefined;
  do {
    const page = await api.listInstances(ref.calendarId, ref.eventId, pageToken);
    for (const instance of page.items ?? []) {
      if (!instance.id || changed.has(instance.id) || !instance.originalStartTime?.dateTime) continue;
      const original = instant(instance.originalStartTime);
      const onPattern = instant(instance.start) === original && instant(instance.end) === original + lengthMs && instance.summary === master.summary;
      if (onPattern) continue;
      const start = DateTime.fromMillis(original, { zone: content.timeZone });
      const own = { start: start.toISO({ suppressMilliseconds: true })!, end: start.plus({ milliseconds: lengthMs }).toISO({ suppressMilliseconds: true })! };
      await api.updateInstance(ref.calendarId, googleInstanceBody(master, ref.eventId, own.start, content.timeZone, own), sendUpdates);
    }
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);

  for (const c of changed.values()) {
    await api.updateInstance(ref.calendarId, googleInstanceBody(master, ref.eventId, c.originalStart, content.timeZone, c), sendUpdates);
  }
}
