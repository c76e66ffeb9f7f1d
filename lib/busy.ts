/** A stretch of time during which a staff member cannot be booked, and where that knowledge comes from. */
export interface BusyInterval {
  start: Date;
  end: Date;
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
export function mergeIntervals(intervals: { start: Date; end: Date }[]): { start: Date; end: Date }[] {
  const sorted = [...intervals].sort((a, b) => a.start.getTime() - b.start.getTime());
  const merged: { start: Date; end: Date }[] = [];
  for (const next of sorted) {
    const last = merged.at(-1);
    if (last && next.start.getTime() <= last.end.getTime()) {
      if (next.end > last.end) last.end = next.end;
    } else {
      merged.push({ start: new Date(next.start), end: new Date(next.end) });
    }
  }
  return merged;
}
