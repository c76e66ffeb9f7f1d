/** A stretch of time during which a staff member cannot be booked, and where that knowledge comes from. */
export interface BusyInterval {
  /** Epoch milliseconds: thousands per answer, compared and written, never a Date each. */
  start: number;
  end: number;
  /** calsync's own appointment, or an event imported from the staff member's calendar. */
  source: 'appointment' | 'imported';
  appointmentId?: string;
  /** Imported only: where from, how it blocks (busy, tentative, oof), whether all day, and the title when the tenant keeps titles. */
  provider?: string;
  showAs?: string;
  allDay?: boolean;
  title?: string;
}

/** Overlapping or touching intervals merged into one, sorted by start. */
export function mergeIntervals(intervals: { start: number; end: number }[]): { start: number; end: number }[] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const merged: { start: number; end: number }[] = [];
  for (const next of sorted) {
    const last = merged.at(-1);
    if (last && next.start <= last.end) {
      if (next.end > last.end) last.end = next.end;
    } else {
      merged.push({ start: next.start, end: next.end });
    }
  }
  return merged;
}
