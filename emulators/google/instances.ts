import { DateTime } from 'luxon';
import { exdateInstants, occurrenceStarts } from '../common/recurrence';
import type { EventResource } from './eventRules';

/** How far ahead a list with `singleEvents=true` and no `timeMax` expands a never-ending series. */
export const EXPANSION_HORIZON_DAYS = 730;

/**
 * `singleEvents=true`: a recurring event becomes its instances, each with its own id
 * (`<id>_<start in UTC basic format>`, or `<id>_<yyyyMMdd>` all day), `recurringEventId` and
 * `originalStartTime`, as Google lists them. Other events are returned as they are.
 */
export function singleEventsOf(
  r: EventResource,
  calendarZone: string,
  untilMs: number,
  overrides?: Overrides,
): EventResource[] {
  if (!r.recurrence?.length) return [r];
  const zone = r.start.timeZone ?? calendarZone;
  const allDay = r.start.date !== undefined;
  const first = allDay ? DateTime.fromISO(r.start.date!, { zone }) : DateTime.fromISO(r.start.dateTime!, { zone });
  const last = allDay
    ? DateTime.fromISO(r.end.date!, { zone })
    : DateTime.fromISO(r.end.dateTime!, { zone: r.end.timeZone ?? zone });
  const days = Math.round(last.diff(first, 'days').days);
  const ms = last.toMillis() - first.toMillis();
  const rules = r.recurrence.filter((l) => /^RRULE:/i.test(l)).map((l) => l.slice(6));
  const { recurrence: _series, ...rest } = r;
  return occurrenceStarts(first, rules, exdateInstants(r.recurrence, zone, allDay), untilMs)
    .map((at) => {
      const start = allDay
        ? { date: at.toISODate()! }
        : { dateTime: at.toISO({ suppressMilliseconds: true })!, timeZone: zone };
      const end = allDay
        ? { date: at.plus({ days }).toISODate()! }
        : { dateTime: at.plus({ milliseconds: ms }).toISO({ suppressMilliseconds: true })!, timeZone: zone };
      const suffix = allDay ? at.toFormat('yyyyMMdd') : at.toUTC().toFormat("yyyyMMdd'T'HHmmss'Z'");
      const id = `${r.id}_${suffix}`;
      return overrides?.(id) ?? { ...rest, id, start, end, recurringEventId: r.id, originalStartTime: start };
    })
    .filter((e): e is EventResource => e !== null);
}

/**
 * An instance changed or cancelled on its own is stored as an event of its own (its instance id,
 * `recurringEventId`, `originalStartTime`), as Google keeps exceptions. How an expansion treats
 * them: `replace` shows the stored exception in its place (events.instances), `omit` leaves the
 * place empty because the exception is listed by itself (events.list with singleEvents).
 */
export type Overrides = (instanceId: string) => EventResource | null | undefined;
export function overridesIn(events: Map<string, { resource: EventResource }>, mode: 'replace' | 'omit'): Overrides {
  return (id) => {
    const stored = events.get(id)?.resource;
    if (!stored?.recurringEventId) return undefined;
    return mode === 'replace' ? stored : null;
  };
}

/** The master's id and the instance suffix of an instance id (`<id>_20261201T090000Z`, `<id>_20261201`). */
export function parseInstanceId(id: string): { masterId: string } | undefined {
  const match = /^(.+)_(\d{8}(?:T\d{6}Z)?)$/.exec(id);
  return match ? { masterId: match[1]! } : undefined;
}
