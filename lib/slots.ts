import { DateTime, Info } from 'luxon';

/**
 * Bookable slots across staff members: pure and deterministic (the clock is passed in as `now`).
 * Interval arithmetic over sorted lists of instants in milliseconds: each person's working hours
 * (in their own zone) minus their busy time widened by the buffers, then a grid of slot starts.
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Wall-clock times `HH:MM` in the working hours' zone; `end` may be `24:00`, and is after `start`. */
export interface TimeRange {
  start: string;
  end: string;
}

/** When a staff member can be booked, in their own zone: weekly hours, dates with other hours, days off. */
export interface WorkingHours {
  timeZone: string;
  weekly: Partial<Record<Weekday, TimeRange[]>>;
  /** A date (`YYYY-MM-DD`, local) with these hours instead of the weekly ones; `[]` is a day off. */
  overrides?: { date: string; hours: TimeRange[] }[];
  daysOff?: string[];
}

export interface Span {
  start: number;
  end: number;
}

/** Busy time; `showAs` of imported events: `free` never blocks, `tentative` blocks unless told otherwise. */
export interface BusySpan extends Span {
  showAs?: string;
  allDay?: boolean;
}

export interface StaffSlotInput {
  staffId: string;
  /** Without working hours a staff member can be booked at any time that is not busy. */
  workingHours?: WorkingHours;
  busy: BusySpan[];
  /** How booked the person already is (calsync's appointments in the window): `pick: "balanced"` prefers the least. */
  booked?: number;
}

export interface SlotOptions {
  from: number;
  to: number;
  now: number;
  /** Slot starts are aligned to `slotIntervalMinutes` from each local midnight in this zone. */
  timeZone: string;
  durationMinutes: number;
  slotIntervalMinutes: number;
  bufferBeforeMinutes?: number;
  bufferAfterMinutes?: number;
  minimumNoticeMinutes?: number;
  /** `any`: a slot where at least one person is free, listing who; `all`: only where everyone is. */
  mode: 'any' | 'all';
  /** `balanced` (`any` mode): each slot names only the least-booked person free then. */
  pick?: 'balanced';
  maxSlots: number;
  /** Tentative imported time blocks by default (a tenant setting). */
  tentativeBlocks?: boolean;
}

export interface Slot {
  start: number;
  end: number;
  staffIds: string[];
}

const MINUTE = 60_000;

/** Overlapping or touching spans merged, sorted by start (the input is not changed). */
export function mergeSpans(spans: Span[]): Span[] {
  // Busy time comes sorted from PostgreSQL: sort (a copy) only when it is not.
  let inOrder = true;
  for (let i = 1; i < spans.length && inOrder; i++) inOrder = spans[i - 1]!.start <= spans[i]!.start;
  const sorted = inOrder ? spans : [...spans].sort((a, b) => a.start - b.start);
  const merged: Span[] = [];
  let last: Span | undefined;
  for (const s of sorted) {
    if (s.end <= s.start) continue;
    if (last && s.start <= last.end) {
      if (s.end > last.end) last.end = s.end;
    } else merged.push((last = { start: s.start, end: s.end }));
  }
  return merged;
}

/** `a` minus `b`, both sorted and merged. */
export function subtractSpans(a: Span[], b: Span[]): Span[] {
  const out: Span[] = [];
  let j = 0;
  for (const span of a) {
    let start = span.start;
    while (j < b.length && b[j]!.end <= start) j++;
    let k = j;
    while (k < b.length && b[k]!.start < span.end) {
      if (b[k]!.start > start) out.push({ start, end: b[k]!.start });
      start = Math.max(start, b[k]!.end);
      k++;
    }
    if (start < span.end) out.push({ start, end: span.end });
  }
  return out;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;

/**
 * Each zone's UTC offset (minutes) over a local date, or null on a date with a transition: a day
 * has one offset almost always, and reading it once a day keeps luxon (Intl) out of the inner loop.
 * Memoised (the answer never changes), bounded by clearing.
 */
const dayOffsets = new Map<string, number | null>();
const DAY_OFFSETS_LIMIT = 50_000;

function offsetOfDay(zone: string, utcMidnight: number): number | null {
  const key = `${zone}|${utcMidnight}`;
  let offset = dayOffsets.get(key);
  if (offset === undefined) {
    const z = Info.normalizeZone(zone);
    // The local date runs from at most 14 h before this UTC midnight to 38 h after it (24:00 included);
    // two transitions never fall within 52 hours, so equal offsets at both ends mean none in between.
    const [before, after] = [z.offset(utcMidnight - 14 * HOUR), z.offset(utcMidnight + 38 * HOUR)];
    offset = before === after ? before : null;
    if (dayOffsets.size >= DAY_OFFSETS_LIMIT) dayOffsets.clear();
    dayOffsets.set(key, offset);
  }
  return offset;
}

/** A wall-clock `HH:MM` on a local date as an instant: 24:00 is the next local midnight. */
function wallClock(utcMidnight: number, hhmm: string, zone: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const offset = offsetOfDay(zone, utcMidnight);
  if (offset !== null) return utcMidnight + (h * 60 + m) * MINUTE - offset * MINUTE;
  // A DST day: luxon's rules (a time in the spring-forward gap moves forward; a repeated one is the first).
  const date = DateTime.fromMillis(utcMidnight + (h === 24 ? DAY : 0), { zone: 'UTC' });
  return DateTime.fromObject(
    { year: date.year, month: date.month, day: date.day, hour: h === 24 ? 0 : h, minute: m },
    { zone },
  ).toMillis();
}

/** The working hours as instants within [from, to): each local date's own hours, DST-correct. */
export function workingSpans(hours: WorkingHours, from: number, to: number): Span[] {
  const zone = hours.timeZone;
  const overrides = new Map((hours.overrides ?? []).map((o) => [o.date, o.hours]));
  const daysOff = new Set(hours.daysOff ?? []);
  const spans: Span[] = [];
  // Local dates as UTC midnights (calendar arithmetic only), from a day before the window to a day after.
  const localDate = (ms: number) => {
    const d = DateTime.fromMillis(ms, { zone });
    return Date.UTC(d.year, d.month - 1, d.day);
  };
  const last = localDate(to) + DAY;
  for (let day = localDate(from) - DAY; day <= last; day += DAY) {
    const key = new Date(day).toISOString().slice(0, 10);
    const weekday = WEEKDAYS[(new Date(day).getUTCDay() + 6) % 7]!;
    const ranges = daysOff.has(key) ? [] : (overrides.get(key) ?? hours.weekly[weekday] ?? []);
    for (const r of ranges) {
      const start = Math.max(from, wallClock(day, r.start, zone));
      const end = Math.min(to, wallClock(day, r.end, zone));
      if (end > start) spans.push({ start, end });
    }
  }
  return mergeSpans(spans);
}

/** When the person could take a slot: working time minus busy time widened by the buffers. */
export function freeSpans(staff: StaffSlotInput, opts: SlotOptions): Span[] {
  const before = (opts.bufferBeforeMinutes ?? 0) * MINUTE;
  const after = (opts.bufferAfterMinutes ?? 0) * MINUTE;
  const tentativeBlocks = opts.tentativeBlocks ?? true;
  // A slot [s, e) is free when [s - before, e + after) meets no busy time: widen each busy span instead.
  const widened: Span[] = [];
  for (const b of staff.busy)
    if (b.showAs !== 'free' && (tentativeBlocks || b.showAs !== 'tentative'))
      widened.push({ start: b.start - after, end: b.end + before });
  const blocking = mergeSpans(widened);
  const working = staff.workingHours
    ? workingSpans(staff.workingHours, opts.from, opts.to)
    : [{ start: opts.from, end: opts.to }];
  return subtractSpans(working, blocking);
}

/** Slot starts: every `slotIntervalMinutes` from each local midnight of `timeZone` (a DST day has 23 or 25 hours). */
function* slotStarts(opts: SlotOptions, earliest: number, latest: number): Generator<number> {
  const step = opts.slotIntervalMinutes * MINUTE;
  let day = DateTime.fromMillis(opts.from, { zone: opts.timeZone }).startOf('day');
  while (day.toMillis() <= latest) {
    const next = day.plus({ days: 1 }).startOf('day');
    const dayStart = day.toMillis();
    const dayEnd = next.toMillis();
    const first = earliest > dayStart ? dayStart + Math.ceil((earliest - dayStart) / step) * step : dayStart;
    for (let t = first; t < dayEnd && t <= latest; t += step) yield t;
    day = next;
  }
}

/** The bookable slots, in start order, at most `maxSlots` (`truncated` says there were more). */
export function computeSlots(staff: StaffSlotInput[], opts: SlotOptions): { slots: Slot[]; truncated: boolean } {
  const duration = opts.durationMinutes * MINUTE;
  const earliest = Math.max(opts.from, opts.now + (opts.minimumNoticeMinutes ?? 0) * MINUTE);
  const latest = opts.to - duration;
  // Least booked first for `balanced`; otherwise (and on ties) the order asked.
  const order = staff.map((s, i) => ({ s, i }));
  if (opts.pick === 'balanced') order.sort((a, b) => (a.s.booked ?? 0) - (b.s.booked ?? 0) || a.i - b.i);
  const people = order.map(({ s }) => ({ staffId: s.staffId, free: freeSpans(s, opts), at: 0 }));
  const slots: Slot[] = [];
  if (people.length === 0 || latest < earliest) return { slots, truncated: false };

  for (const start of slotStarts(opts, earliest, latest)) {
    const end = start + duration;
    const who: string[] = [];
    for (const p of people) {
      // Starts only grow: a free span that ends before this slot does cannot hold a later one.
      while (p.at < p.free.length && p.free[p.at]!.end < end) p.at++;
      const span = p.free[p.at];
      if (span && span.start <= start) who.push(p.staffId);
      else if (opts.mode === 'all') break;
    }
    if (who.length === 0 || (opts.mode === 'all' && who.length < people.length)) continue;
    if (slots.length === opts.maxSlots) return { slots, truncated: true };
    const staffIds = opts.pick === 'balanced' && opts.mode === 'any' ? [who[0]!] : who;
    slots.push({ start, end, staffIds });
  }
  return { slots, truncated: false };
}
