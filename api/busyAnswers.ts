import { createHash } from 'node:crypto';
import { mergeIntervals, type BusyInterval } from '../lib/busy';
import { isoInZone } from '../lib/isoInZone';
import { occurrenceSpans } from '../lib/recurrence';
import { computeSlots, type BusySpan, type SlotOptions, type WorkingHours } from '../lib/slots';
import type { AppointmentRecurrence } from '../lib/types';

/**
 * The CPU side of busy time and availability: series expanded, intervals merged, slots computed
 * and the answer written as JSON. Plain data in, a JSON body out, so the same functions run inline
 * or on a thread of the busy pool (api/busyReads.ts): what PostgreSQL returned goes in, nothing else.
 * The body comes out as UTF-8 bytes: from a thread they move to the event loop without a copy, and
 * the event loop never encodes a large string for the socket.
 */

const encoder = new TextEncoder();

/** An answer's body (JSON as UTF-8) and its ETag. */
export interface AnswerBytes {
  body: Uint8Array;
  etag: string;
}

/**
 * The JSON and its ETag, made where the answer is made (on a thread, mostly): hashing a 200 KB body
 * was the largest single piece of a busy read left on the event loop. The ETag is the one Express
 * would have made (its default, weak: length and SHA-1), so conditional requests (If-None-Match,
 * 304) go on working as before: a client that polls busy time gets 304 while nothing changed.
 */
function utf8Json(value: unknown): AnswerBytes {
  const body = encoder.encode(JSON.stringify(value));
  return { body, etag: weakEtag(body) };
}

export function weakEtag(body: Uint8Array): string {
  const hash = createHash('sha1').update(body).digest('base64').slice(0, 27);
  return `W/"${body.byteLength.toString(16)}-${hash}"`;
}

/** One of calsync's appointments as read for busy time (instants as epoch milliseconds). */
export interface AppointmentRow {
  id: string;
  startMs: number;
  endMs: number;
  staffIds: string[];
  recurrence: AppointmentRecurrence | null;
  timeZone: string;
  allDay: boolean;
}

export type ImportedInterval = BusyInterval & { staffId: string };

/**
 * The appointments as api/routes/availability.ts reads them: one JSON text of
 * `[id, startMs, endMs, staffIds, recurrence, timeZone, allDay]` arrays, parsed here (on a thread,
 * mostly) rather than row by row on the event loop.
 */
export function appointmentRowsOf(json: string): AppointmentRow[] {
  return (JSON.parse(json) as [string, number, number, string[], AppointmentRecurrence | null, string, boolean][]).map(
    ([id, startMs, endMs, staffIds, recurrence, timeZone, allDay]) => ({
      id,
      startMs,
      endMs,
      staffIds,
      recurrence,
      timeZone,
      allDay,
    }),
  );
}

/** Imported busy time as read: `[staffId, startMs, endMs, showAs, allDay, title, provider]` arrays. */
function importedIntervalsOf(json: string): ImportedInterval[] {
  return (JSON.parse(json) as [string, number, number, string, boolean, string | null, string][]).map(
    ([staffId, start, end, showAs, allDay, title, provider]) => ({
      staffId,
      start,
      end,
      source: 'imported' as const,
      provider,
      showAs,
      allDay,
      ...(title ? { title } : {}),
    }),
  );
}

const DAY_MS = 86400000;

/**
 * An upper bound of the intervals a read makes: a series has at most one occurrence a day (the
 * rules calsync accepts are daily at the finest), plus one for an occurrence reaching into the window.
 */
export function occurrenceBound(series: number, appointments: number, fromMs: number, toMs: number): number {
  const perSeries = Math.ceil((toMs - fromMs) / DAY_MS) + 2;
  return series * perSeries + (appointments - series);
}

/** An appointment's busy time in the window: itself, or a series' occurrences there (exceptions applied). */
function appointmentIntervals(r: AppointmentRow, fromMs: number, toMs: number): BusyInterval[] {
  const of = (start: number, end: number): BusyInterval => ({ start, end, source: 'appointment', appointmentId: r.id });
  if (!r.recurrence) return [of(r.startMs, r.endMs)];
  // An all-day series' occurrences are whole local days, 23 or 25 hours long across a DST change.
  const series = {
    start: new Date(r.startMs).toISOString(),
    end: new Date(r.endMs).toISOString(),
    timeZone: r.timeZone,
    allDay: r.allDay,
    recurrence: r.recurrence,
  };
  return occurrenceSpans(series, fromMs, toMs).map((o) => of(o.startMs, o.endMs));
}

/** calsync's own appointments (series occurrences included) of each staff member in the window. */
export function appointmentsByStaff(
  rows: AppointmentRow[],
  staffIds: string[],
  fromMs: number,
  toMs: number,
): Map<string, BusyInterval[]> {
  const byStaff = new Map<string, BusyInterval[]>(staffIds.map((id) => [id, []]));
  for (const r of rows) {
    const intervals = appointmentIntervals(r, fromMs, toMs);
    for (const staffId of r.staffIds) byStaff.get(staffId)?.push(...intervals);
  }
  return byStaff;
}

/** One person's busy time, appointments and imported together, sorted by start. */
function busyOf(input: BusyInput): BusyInterval[] {
  const rows = appointmentRowsOf(input.rows);
  const list = appointmentsByStaff(rows, [input.staffId], input.fromMs, input.toMs).get(input.staffId)!;
  for (const i of importedIntervalsOf(input.imported)) if (i.staffId === input.staffId) list.push(withoutStaff(i));
  return list.sort((a, b) => a.start - b.start);
}

function withoutStaff(i: ImportedInterval): BusyInterval {
  const { staffId: _, ...interval } = i;
  return interval;
}

/** One interval as answered: times in the caller's zone, the source and what is known about it. */
function describeInterval(i: BusyInterval, zone: string) {
  return {
    start: isoInZone(i.start, zone),
    end: isoInZone(i.end, zone),
    source: i.source,
    ...(i.appointmentId !== undefined ? { appointmentId: i.appointmentId } : {}),
    ...(i.provider !== undefined ? { provider: i.provider, showAs: i.showAs, allDay: i.allDay } : {}),
    ...(i.title !== undefined ? { title: i.title } : {}),
  };
}

export interface BusyInput {
  staffId: string;
  timeZone: string;
  fromMs: number;
  toMs: number;
  /** JSON texts as read (appointmentRowsOf, importedIntervalsOf). */
  rows: string;
  imported: string;
}

/** GET /v1/staff/:id/busy's answer. */
export function busyAnswer(input: BusyInput): AnswerBytes {
  const intervals = busyOf(input);
  const zone = input.timeZone;
  return utf8Json({
    staffId: input.staffId,
    timeZone: zone,
    from: isoInZone(input.fromMs, zone),
    to: isoInZone(input.toMs, zone),
    busy: mergeIntervals(intervals).map((i) => ({ start: isoInZone(i.start, zone), end: isoInZone(i.end, zone) })),
    // Before merging, each with its source: calsync's appointments and imported busy time.
    intervals: intervals.map((i) => describeInterval(i, zone)),
  });
}

/** POST /v1/staff/:id/availability/check's answer: the proposed slot is the window. */
export function checkAnswer(input: BusyInput): AnswerBytes {
  const conflicts = busyOf(input);
  return utf8Json({
    free: conflicts.length === 0,
    conflicts: conflicts.map((c) => describeInterval(c, input.timeZone)),
  });
}

export interface AvailabilityInput {
  staff: { staffId: string; workingHours?: WorkingHours }[];
  /** Busy time is read this much wider than the window: it matters to the buffers of slots at its edges. */
  busyFromMs: number;
  busyToMs: number;
  /** JSON text as read (appointmentRowsOf). */
  rows: string;
  imported: Map<string, BusySpan[]>;
  options: SlotOptions;
  freshness: Map<string, { importedAsOf: string | null; needsReauth: boolean }>;
}

/** POST /v1/availability's answer. */
export function availabilityAnswer(input: AvailabilityInput): AnswerBytes {
  const ids = input.staff.map((s) => s.staffId);
  const appointments = appointmentsByStaff(appointmentRowsOf(input.rows), ids, input.busyFromMs, input.busyToMs);
  const { slots, truncated } = computeSlots(
    input.staff.map(({ staffId, workingHours }) => {
      const own = appointments.get(staffId)!;
      return {
        staffId,
        workingHours,
        busy: [...own.map((i) => ({ start: i.start, end: i.end })), ...(input.imported.get(staffId) ?? [])],
        booked: own.length,
      };
    }),
    input.options,
  );
  const zone = input.options.timeZone;
  return utf8Json({
    timeZone: zone,
    slots: slots.map((slot) => ({
      start: isoInZone(slot.start, zone),
      end: isoInZone(slot.end, zone),
      staffIds: slot.staffIds,
    })),
    truncated,
    staff: ids.map((staffId) => ({
      staffId,
      ...(input.freshness.get(staffId) ?? { importedAsOf: null, needsReauth: false }),
    })),
  });
}
