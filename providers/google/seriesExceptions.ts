import type { calendar_v3 } from 'googleapis';
import { DateTime } from 'luxon';
import { occurrenceLength } from '../../lib/recurrence';
import type { EventContent, EventRef } from '../types';
import { googleInstanceBody, googleInstanceId, googleTime, sendUpdatesFor, toGoogleEvent } from './eventMapping';

/** The two calls a series' exceptions need (the provider supplies them, timed and paced). */
export interface GoogleSeriesApi {
  listInstances(calendarId: string, eventId: string, pageToken?: string): Promise<calendar_v3.Schema$Events>;
  updateInstance(
    calendarId: string,
    body: calendar_v3.Schema$Event,
    sendUpdates: 'externalOnly' | 'none',
  ): Promise<void>;
}

/** Whether two of Google's times are the same: the same date, or the same instant. */
function sameTime(a: calendar_v3.Schema$EventDateTime | undefined, b: calendar_v3.Schema$EventDateTime): boolean {
  return b.date !== undefined ? a?.date === b.date : Date.parse(a?.dateTime ?? '') === Date.parse(b.dateTime ?? '');
}

/** An instance's original start as local ISO in the series' zone (an all-day one's midnight). */
function originalStartOf(instance: calendar_v3.Schema$Event, content: EventContent): DateTime | undefined {
  const original = instance.originalStartTime;
  if (content.allDay) return original?.date ? DateTime.fromISO(original.date, { zone: content.timeZone }) : undefined;
  return original?.dateTime
    ? DateTime.fromISO(original.dateTime, { setZone: true }).setZone(content.timeZone)
    : undefined;
}

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
  const changed = new Map(
    series.changed.map((c) => [googleInstanceId(ref.eventId, c.originalStart, content.allDay), c]),
  );
  const length = occurrenceLength(content);

  let pageToken: string | undefined;
  do {
    const page = await api.listInstances(ref.calendarId, ref.eventId, pageToken);
    for (const instance of page.items ?? []) {
      const original = originalStartOf(instance, content);
      if (!instance.id || changed.has(instance.id) || !original) continue;
      const iso = (d: DateTime) => d.toISO({ suppressMilliseconds: true })!;
      const own = { start: iso(original), end: iso(original.plus(length)) };
      const onPattern =
        sameTime(instance.start, googleTime(content, own.start)) &&
        sameTime(instance.end, googleTime(content, own.end)) &&
        instance.summary === master.summary;
      if (onPattern) continue;
      await api.updateInstance(
        ref.calendarId,
        googleInstanceBody(master, ref.eventId, own.start, content, own),
        sendUpdates,
      );
    }
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);

  for (const c of changed.values()) {
    await api.updateInstance(
      ref.calendarId,
      googleInstanceBody(master, ref.eventId, c.originalStart, content, c),
      sendUpdates,
    );
  }
}
