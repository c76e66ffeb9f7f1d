import { DateTime } from 'luxon';
import { occurrenceLength, occurrenceStarts } from '../../lib/recurrence';
import type { EventContent } from '../types';
import { graphAllDayDate, local } from './eventMapping';
import { graphZoneOf, ianaZoneOf } from './zones';

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

type GraphTime = { dateTime: string; timeZone: string };

/**
 * How the occurrences Graph lists are matched with the content: by instant, or in an all-day series
 * by date (Graph may show an all-day midnight floating or in a zone, and its originalStart either way).
 */
interface OccurrenceKeys {
  /** An occurrence's `originalStart`, as local time in the series' zone. */
  original(originalStart: string): DateTime;
  /** A time as Graph shows it, comparable with `wanted`. */
  shown(t: GraphTime | undefined): string;
  /** A local ISO time of the content. */
  wanted(iso: string): string;
}

function occurrenceKeys(content: EventContent): OccurrenceKeys {
  const zone = content.timeZone;
  if (content.allDay) {
    return {
      original: (o) =>
        DateTime.fromISO(graphAllDayDate({ dateTime: o.replace(/Z$/, ''), timeZone: 'UTC' }, zone), { zone }),
      shown: (t) => (t ? graphAllDayDate(t, zone) : ''),
      wanted: (iso) => iso.slice(0, 10),
    };
  }
  return {
    original: (o) => DateTime.fromISO(o.endsWith('Z') ? o : `${o}Z`).setZone(zone),
    shown: (t) => (t ? String(DateTime.fromISO(t.dateTime, { zone: ianaZoneOf(t.timeZone) ?? 'utc' }).toMillis()) : ''),
    wanted: (iso) => String(Date.parse(iso)),
  };
}

/**
 * After the series master is written, makes its occurrences match the exceptions: Graph holds them
 * per occurrence, so cancelled ones are deleted, changed ones PATCHed (times, subject), and an
 * exception no longer wanted is put back on the pattern. Graph drops every exception when the
 * pattern or the series' times change, so this runs after each series write and re-applies them.
 * Only what differs is written: each write mails the event's attendees.
 */
export async function writeGraphExceptions(
  api: GraphSeriesApi,
  seriesId: string,
  content: EventContent,
): Promise<{ missing: string[] }> {
  const series = content.recurrence!;
  const firstMs = Date.parse(content.start);
  const named = [...series.cancelled, ...series.changed.flatMap((c) => [c.originalStart, c.start])].map((iso) =>
    Date.parse(iso),
  );
  const from = new Date(Math.min(firstMs, ...named) - DAY_MS).toISOString();
  const to = new Date(
    Math.max(firstMs + STALE_EXCEPTION_REACH_MS, ...named.map((ms) => ms + 2 * DAY_MS)),
  ).toISOString();
  const occurrences = await api.listOccurrences(seriesId, from, to);
  const keys = occurrenceKeys(content);
  const iso = (d: DateTime) => d.toISO({ suppressMilliseconds: true })!;
  const byOriginal = new Map(
    occurrences.filter((o) => o.originalStart).map((o) => [keys.wanted(iso(keys.original(o.originalStart!))), o]),
  );
  const time = (at: string) => ({ dateTime: local(at), timeZone: graphZoneOf(content.timeZone) });

  for (const original of series.cancelled) {
    const occurrence = byOriginal.get(keys.wanted(original));
    if (occurrence) await api.deleteOccurrence(occurrence.id);
  }
  const changed = new Set<string>();
  for (const c of series.changed) {
    const occurrence = byOriginal.get(keys.wanted(c.originalStart));
    // Not listed: cancelled earlier (Graph cannot bring an occurrence back) or outside the series.
    if (!occurrence) continue;
    changed.add(occurrence.id);
    const subject = c.summary ?? content.summary;
    if (
      keys.shown(occurrence.start) === keys.wanted(c.start) &&
      keys.shown(occurrence.end) === keys.wanted(c.end) &&
      occurrence.subject === subject
    )
      continue;
    await api.patchOccurrence(occurrence.id, { start: time(c.start), end: time(c.end), subject });
  }
  const length = occurrenceLength(content);
  for (const occurrence of occurrences) {
    if (occurrence.type !== 'exception' || changed.has(occurrence.id) || !occurrence.originalStart) continue;
    const original = keys.original(occurrence.originalStart);
    await api.patchOccurrence(occurrence.id, {
      start: time(iso(original)),
      end: time(iso(original.plus(length))),
      subject: content.summary,
    });
  }
  return { missing: missingOccurrences(content, keys, new Set(byOriginal.keys()), Date.parse(to) - 2 * DAY_MS) };
}

/**
 * Occurrences the series should have that Graph no longer lists: deleted earlier (cancelled in the
 * CRM, or in Outlook) and wanted again. Graph cannot bring one back; the caller makes the series
 * again. Only the read window counts (a listing shows what lies in it).
 */
function missingOccurrences(
  content: EventContent,
  keys: OccurrenceKeys,
  listed: Set<string>,
  untilMs: number,
): string[] {
  const series = content.recurrence!;
  const cancelled = new Set(series.cancelled.map((c) => keys.wanted(c)));
  const starts = occurrenceStarts(
    { start: content.start, timeZone: content.timeZone, allDay: content.allDay, recurrence: { rule: series.rule } },
    untilMs,
  );
  return starts
    .map((at) => keys.wanted(at.toISO({ suppressMilliseconds: true })!))
    .filter((key) => !cancelled.has(key) && !listed.has(key));
}
