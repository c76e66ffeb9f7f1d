import { randomBytes } from 'node:crypto';
import type { StoredEvent } from './eventRules';
import { viewOf, type OccurrenceView } from './occurrences';

interface Version {
  event: StoredEvent;
  /** Change counter of the calendar when this version was written, and when it was replaced or deleted. */
  from: number;
  to: number;
}

const MAX_VERSIONS = 50;
const snapshot = (e: StoredEvent): StoredEvent => ({ ...e, fields: { ...e.fields }, extended: new Map(e.extended) });

/**
 * Every version of every event per calendar, numbered by a change counter: what calendarView/delta
 * needs to tell a client holding a delta token what appeared, changed and disappeared in its window.
 */
export class ChangeLog {
  /** Delta tokens embed this; changing it expires every token issued before. */
  epoch = randomBytes(6).toString('hex');
  private calendars = new Map<string, { seq: number; versions: Map<string, Version[]> }>();

  private of(calendarId: string) {
    let c = this.calendars.get(calendarId);
    if (!c) this.calendars.set(calendarId, (c = { seq: 0, versions: new Map() }));
    return c;
  }

  seq(calendarId: string): number {
    return this.of(calendarId).seq;
  }

  record(calendarId: string, before: StoredEvent | undefined, after: StoredEvent | undefined): void {
    const c = this.of(calendarId);
    c.seq += 1;
    const id = (after ?? before)!.id;
    const list = c.versions.get(id) ?? [];
    const current = list.at(-1);
    if (current && current.to === Infinity) current.to = c.seq;
    if (after) list.push({ event: snapshot(after), from: c.seq, to: Infinity });
    c.versions.set(id, list.slice(-MAX_VERSIONS));
  }

  /**
   * The window's view changes after `since`: events (or occurrences) to send in full, and ids to
   * send as `@removed` (they were in the window at `since` or later and are not any more).
   */
  changesSince(
    calendarId: string,
    since: number,
    fromMs: number,
    toMs: number,
  ): { changed: OccurrenceView[]; removed: string[] } {
    const changed: OccurrenceView[] = [];
    const removed: string[] = [];
    for (const list of this.of(calendarId).versions.values()) {
      if (!list.some((v) => v.from > since || (v.to !== Infinity && v.to > since))) continue;
      const current = list.at(-1)!.to === Infinity ? list.at(-1)! : undefined;
      const now = current ? viewOf(current.event, fromMs, toMs) : [];
      const nowIds = new Set(now.map((o) => o.event.id));
      if (current && current.from > since) changed.push(...now);
      // An occurrence cancelled (or moved off the pattern) in a series that still shows in the
      // window is not reported on its own: the series changed, and its occurrences come again.
      // Graph's delta documentation is silent on it; calsync's own reports and Graph's issue
      // tracker say so (../../shared/PROVIDER-FACTS.md), and it is the stricter reading.
      if (current?.event.fields.recurrence && now.length > 0) continue;
      const gone = new Set<string>();
      for (const v of list) {
        if (v === current || v.to <= since) continue;
        for (const o of viewOf(v.event, fromMs, toMs)) if (!nowIds.has(o.event.id)) gone.add(o.event.id);
      }
      removed.push(...gone);
    }
    return { changed, removed };
  }

  /** What the window shows of one event now (occurrences of a series). */
  view(e: StoredEvent, fromMs: number, toMs: number): OccurrenceView[] {
    return viewOf(e, fromMs, toMs);
  }

  expire(): void {
    this.epoch = randomBytes(6).toString('hex');
  }

  reset(): void {
    this.calendars.clear();
    this.expire();
  }
}
