import { DateTime } from 'luxon';
import { occurrenceStarts } from '../common/recurrence';
import { instantOf, zoneOf, type DateTimeTimeZone, type StoredEvent } from './eventRules';

const DAYS: Record<string, string> = {
  sunday: 'SU',
  monday: 'MO',
  tuesday: 'TU',
  wednesday: 'WE',
  thursday: 'TH',
  friday: 'FR',
  saturday: 'SA',
};
const INDEX: Record<string, number> = { first: 1, second: 2, third: 3, fourth: 4, last: -1 };

interface PatternedRecurrence {
  pattern?: {
    type?: string;
    interval?: number;
    daysOfWeek?: string[];
    dayOfMonth?: number;
    month?: number;
    index?: string;
    firstDayOfWeek?: string;
  };
  range?: { type?: string; startDate?: string; endDate?: string; numberOfOccurrences?: number };
}

/** A Graph patternedRecurrence as an RRULE value (what ical.js expands). */
export function rruleOf(recurrence: PatternedRecurrence): string | undefined {
  const p = recurrence.pattern ?? {};
  const parts: string[] = [];
  const byDay = (p.daysOfWeek ?? []).map((d) => DAYS[d.toLowerCase()]).filter(Boolean);
  switch (p.type) {
    case 'daily':
      parts.push('FREQ=DAILY');
      break;
    case 'weekly':
      // firstDayOfWeek defaults to sunday and decides which weeks an interval over 1 counts
      // (https://learn.microsoft.com/graph/api/resources/recurrencepattern, firstDayOfWeek).
      parts.push('FREQ=WEEKLY', `WKST=${DAYS[(p.firstDayOfWeek ?? 'sunday').toLowerCase()] ?? 'SU'}`);
      if (byDay.length) parts.push(`BYDAY=${byDay.join(',')}`);
      break;
    case 'absoluteMonthly':
      parts.push('FREQ=MONTHLY', `BYMONTHDAY=${p.dayOfMonth ?? 1}`);
      break;
    case 'relativeMonthly':
      // Several daysOfWeek with an index: the index-th day in the month that is any of them, one
      // occurrence a month (https://learn.microsoft.com/graph/api/resources/recurrencepattern,
      // daysOfWeek): RRULE's BYSETPOS, not BYDAY=1MO,1WE.
      parts.push('FREQ=MONTHLY', `BYDAY=${byDay.join(',')}`, `BYSETPOS=${INDEX[p.index ?? 'first'] ?? 1}`);
      break;
    case 'absoluteYearly':
      parts.push('FREQ=YEARLY', `BYMONTH=${p.month ?? 1}`, `BYMONTHDAY=${p.dayOfMonth ?? 1}`);
      break;
    case 'relativeYearly':
      parts.push(
        'FREQ=YEARLY',
        `BYMONTH=${p.month ?? 1}`,
        `BYDAY=${byDay.join(',')}`,
        `BYSETPOS=${INDEX[p.index ?? 'first'] ?? 1}`,
      );
      break;
    default:
      return undefined;
  }
  if (p.interval && p.interval > 1) parts.push(`INTERVAL=${p.interval}`);
  const r = recurrence.range ?? {};
  if (r.type === 'endDate' && r.endDate) parts.push(`UNTIL=${r.endDate.replace(/-/g, '')}T235959`);
  if (r.type === 'numbered' && r.numberOfOccurrences) parts.push(`COUNT=${r.numberOfOccurrences}`);
  return parts.join(';');
}

/**
 * Occurrences changed or cancelled on their own (PATCH or DELETE of an occurrence's id), kept on
 * the series master under this field (never rendered), keyed by occurrence id. A new pattern or
 * new series times drop them, as Graph does.
 */
export const EXCEPTIONS_FIELD = '_occurrenceExceptions';
export type OccurrenceExceptions = Record<
  string,
  { cancelled?: boolean; fields?: Record<string, unknown>; changeKey: string; lastModifiedDateTime: string }
>;

export function exceptionsOf(e: StoredEvent): OccurrenceExceptions {
  return (e.fields[EXCEPTIONS_FIELD] as OccurrenceExceptions | undefined) ?? {};
}

/** An occurrence id names its series and original start: `<seriesId>_OCC_<yyyyMMddTHHmm>`. */
export function parseOccurrenceId(id: string): { masterId: string } | undefined {
  const match = /^(.+)_OCC_\d{8}T\d{4}$/.exec(id);
  return match ? { masterId: match[1]! } : undefined;
}

/** How long after the window an occurrence may start and still be moved into it by an exception. */
const MOVED_REACH_MS = 62 * 86400000;

export interface OccurrenceView {
  event: StoredEvent;
  seriesMasterId?: string;
  /** `occurrence` on the pattern, `exception` changed on its own. */
  type?: 'occurrence' | 'exception';
  /** The occurrence's start on the pattern (Graph's `originalStart`, UTC). */
  originalStart?: string;
}

/**
 * What calendarView shows of an event between two instants: a single instance as itself, a series
 * as its occurrences (type `occurrence`, `seriesMasterId`), each with an id derived from the series
 * id and its original start, so an occurrence untouched by a change keeps its id. Cancelled
 * occurrences are left out; changed ones show their own fields (type `exception`).
 */
export function viewOf(e: StoredEvent, fromMs: number, toMs: number): OccurrenceView[] {
  if (!e.fields.recurrence) {
    const first = instantOf(e.fields.start as DateTimeTimeZone).toMillis();
    return first < toMs && instantOf(e.fields.end as DateTimeTimeZone).toMillis() > fromMs ? [{ event: e }] : [];
  }
  return seriesOccurrences(e, toMs + MOVED_REACH_MS).filter((o) => {
    if (o.cancelled) return false;
    return (
      instantOf(o.event.fields.start as DateTimeTimeZone).toMillis() < toMs &&
      instantOf(o.event.fields.end as DateTimeTimeZone).toMillis() > fromMs
    );
  });
}

/** One occurrence of a series by its id (a cancelled one too, flagged), or undefined. */
export function occurrenceById(
  e: StoredEvent,
  occurrenceId: string,
): (OccurrenceView & { cancelled?: boolean }) | undefined {
  const stamp = /_OCC_(\d{8}T\d{4})$/.exec(occurrenceId)?.[1];
  const zone = zoneOf((e.fields.start as DateTimeTimeZone).timeZone) ?? 'UTC';
  const at = stamp ? DateTime.fromFormat(stamp, "yyyyMMdd'T'HHmm", { zone }) : undefined;
  if (!at?.isValid || !e.fields.recurrence) return undefined;
  return seriesOccurrences(e, at.toMillis()).find((o) => o.event.id === occurrenceId);
}

/** Every occurrence of a series whose original start is up to `untilMs`, exceptions applied, cancelled ones flagged. */
function seriesOccurrences(e: StoredEvent, untilMs: number): Array<OccurrenceView & { cancelled?: boolean }> {
  const start = e.fields.start as DateTimeTimeZone;
  const end = e.fields.end as DateTimeTimeZone;
  const first = instantOf(start);
  const rule = rruleOf(e.fields.recurrence as PatternedRecurrence);
  if (!rule) return [];
  const zone = zoneOf(start.timeZone) ?? 'UTC';
  // An all-day occurrence runs midnight to midnight, 23 or 25 hours across a DST change.
  const length =
    e.fields.isAllDay === true
      ? { days: Math.round(instantOf(end).setZone(zone).diff(first.setZone(zone), 'days').days) }
      : { milliseconds: instantOf(end).toMillis() - first.toMillis() };
  const wall = (d: DateTime) => d.toFormat("yyyy-MM-dd'T'HH:mm:ss.0000000");
  const exceptions = exceptionsOf(e);
  const { [EXCEPTIONS_FIELD]: _exceptions, ...seriesFields } = e.fields;
  return occurrenceStarts(first.setZone(zone), [rule], [], untilMs).map((at) => {
    const id = `${e.id}_OCC_${at.toFormat("yyyyMMdd'T'HHmm")}`;
    const exception = exceptions[id];
    const fields = {
      ...seriesFields,
      recurrence: null,
      start: { dateTime: wall(at), timeZone: start.timeZone },
      end: { dateTime: wall(at.plus(length).setZone(zoneOf(end.timeZone) ?? zone)), timeZone: end.timeZone },
      ...(exception?.fields ?? {}),
    };
    return {
      seriesMasterId: e.id,
      type: exception ? ('exception' as const) : ('occurrence' as const),
      originalStart: at.toUTC().toISO({ suppressMilliseconds: true })!,
      event: {
        ...e,
        id,
        fields,
        ...(exception ? { changeKey: exception.changeKey, lastModifiedDateTime: exception.lastModifiedDateTime } : {}),
      },
      ...(exception?.cancelled ? { cancelled: true } : {}),
    };
  });
}
