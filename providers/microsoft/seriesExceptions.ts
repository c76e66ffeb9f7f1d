import { DateTime } from 'luxon';
import type { EventContent } from '../types';
import { local } from './eventMapping';

/** An occurrence as `/events/{id}/instances` lists it. */
export interface GraphOccurrence {
  id: string;
  type?: string;
  originalStart?: string;
  subject?: string;
  start?: { dateTime: string; timeZone: string };
  end?: { dateTime: string; timeZone: string };
}

/** The calls a series' exceptions need (the provider supplies them, timed and paced). */
export interface GraphSeriesApi {
  listOccurrences(seriesId: string, from: string, to: string): Promise<GraphOccurrence[]>;
  patchOccurrence(occurrenceId: string, body: object): Promise<void>;
  /** False when the occurrence was gone already. */
  deleteOccurrence(occurrenceId: string): Promise<boolean>;
}

const DAY_MS = 86400000;
/** How far past the series' start (and its last exception) occurrences are read to find stale exceptions. */
const STALE_EXCEPTION_REACH_MS = 400 * DAY_MS;

const instant = (t: { dateTime: string; timeZone: string } | undefined) =>
  t ? DateTime.fromISO(t.dateTime, { zone: t.timeZone === 'UTC' ? 'utc' : t.timeZone }).toMillis() : Number.NaN;

/**
 * After the series master is written, makes its occurrences match the exceptions: Graph holds them
 * per occurrence, so cancelled ones are deleted, changed ones PATCHed (times, subject), and an
 * exception no longer wanted is put back on the pattern. Graph drops every exception when the
 * pattern or the series' times change, so this runs after each series write and re-applies them.
 * Only what differs is written: each write mails the event's attendees.
 */
export async function writeGraphExceptions(api: GraphSeriesApi, seriesId: string, content: EventContent): Promise<void> {
  const series = content.recurrence!;
  const firstMs = Date.parse(content.start);
  const lengthMs = Date.parse(content.end) - firstMs;
  const named = [...series.cancelled, ...series.changed.flatMap((c) => [c.originalStart, c.start])].map((iso) => Date.parse(iso));
  const from = new Date(Math.min(firstMs, ...named) - DAY_MS).toISOString();
  const to = new Date(Math.max(firstMs + STALE_EXCEPTION_REACH_MS, ...named.map((ms) => ms + 2 * DAY_MS))).toISOString();
  const occurrences = await api.listOccurrences(seriesId, from, to);
  const byOriginal = new Map(occurrences.filter((o) => o.originalStart).map((o) => [byOriginalKey(o.originalStart!), o]));
  const time = (iso: string) => ({ dateTime: local(iso), timeZone: content.timeZone });

  for (const original of series.cancelled) {
    const occurrence = byOriginal.get(Date.parse(original));
    if (occurrence) await api.deleteOccurrence(occurrence.id);
  }
  const changed = new Set<string>();
  for (const c of series.changed) {
    const occurrence = byOriginal.get(Date.parse(c.originalStart));
    // Not listed: cancelled earlier (Graph cannot bring an occurrence back) or outside the series.
    if (!occurrence) continue;
    changed.add(occurrence.id);
    const subject = c.summary ?? content.summary;
    if (instant(occurrence.start) === Date.parse(c.start) && instant(occurrence.end) === Date.parse(c.end) && occurrence.subject === subject) continue;
    await api.patchOccurrence(occurrence.id, { start: time(c.start), end: time(c.end), subject });
  }
  for (const occurrence of occurrences) {
    if (occurrence.type !== 'exception' || changed.has(occurrence.id) || !occurrence.originalStart) continue;
    const original = DateTime.fromMillis(byOriginalKey(occurrence.originalStart), { zone: content.timeZone });
    const end = original.plus({ milliseconds: lengthMs });
    await api.patchOccurrence(occurrence.id, { start: time(original.toISO()!), end: time(end.toISO()!), subject: content.summary });
  }
}

function byOriginalKey(originalStart: string): number {
  return Date.parse(originalStart.endsWith('Z') ? originalStart : `${originalStart}Z`);
}
