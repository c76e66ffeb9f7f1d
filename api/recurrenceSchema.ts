import { DateTime } from 'luxon';
import { z } from 'zod';
import { lineText } from './textSchemas';
import { seriesProblemAnywhere } from '../providers/registry';
import {
  isOccurrenceDate,
  movedOccurrenceClashes,
  occurrencesOverlap,
  normalizeRule,
  occurrenceLength,
  ruleProblem,
} from '../lib/recurrence';
import type { AppointmentRecurrence, DesiredAppointment } from '../lib/types';

const dateOrDateTime = z
  .string()
  .max(40)
  .regex(
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/,
    'must be an ISO 8601 date or date-time',
  );

/** One occurrence that differs from the pattern: named by its original start (or just its date). */
const exceptionSchema = z
  .object({
    originalStart: dateOrDateTime,
    cancelled: z.boolean().default(false),
    start: dateOrDateTime.optional(),
    end: dateOrDateTime.optional(),
    title: lineText(300).optional(),
  })
  .strict();

/** `recurrence` of an appointment body: checked against start and timeZone by `checkRecurrence`. */
export const recurrenceBodySchema = z
  .object({
    rrule: z.string().trim().min(6).max(500),
    exceptions: z.array(exceptionSchema).max(500).default([]),
  })
  .strict();
export type RecurrenceBody = z.output<typeof recurrenceBodySchema>;

type SeriesTimes = Pick<DesiredAppointment, 'start' | 'end' | 'timeZone' | 'allDay'>;
type StoredException = NonNullable<AppointmentRecurrence['exceptions']>[number];
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A moved occurrence's own times as stored (UTC instants), or the problem with them: a timed
 * series takes date-times (end defaults to the series' length after start); an all-day series
 * takes dates, read as midnights in the series' zone (end exclusive, defaulting to as many days).
 */
function movedTimes(
  e: { start: string; end?: string },
  series: SeriesTimes,
): { start: string; end: string } | { field: 'start' | 'end'; message: string } {
  const kind = series.allDay ? 'a date such as 2030-03-05 (the series is all-day)' : 'an ISO 8601 date-time';
  const isKind = (text: string) => (series.allDay ? DATE_ONLY.test(text) : text.includes('T'));
  const s = DateTime.fromISO(e.start, { zone: series.timeZone });
  if (!s.isValid || !isKind(e.start)) return { field: 'start', message: `must be ${kind}` };
  const en = e.end ? DateTime.fromISO(e.end, { zone: series.timeZone }) : s.plus(occurrenceLength(series));
  if (!en.isValid || (e.end && !isKind(e.end))) return { field: 'end', message: `must be ${kind}` };
  if (en <= s) return { field: 'end', message: 'must be after start' };
  return { start: s.toUTC().toISO()!, end: en.toUTC().toISO()! };
}

/** Why the rule cannot be a series starting at `first`: as RRULE, or in some provider's calendar. */
export function recurrenceRuleProblem(rule: string, first: DateTime, allDay = false): string | undefined {
  return ruleProblem(rule, first, allDay, seriesProblemAnywhere);
}

/**
 * Validates a recurrence against the appointment's first occurrence (UTC ISO) and zone, and returns
 * it as stored: the rule normalised, exceptions keyed by the occurrence's local date with UTC times.
 * An all-day series names its occurrences by date and moves them to other dates.
 * Every problem is an issue on its field (`recurrence.exceptions.1.originalStart: …`).
 */
export function checkRecurrence(
  body: RecurrenceBody,
  series: SeriesTimes,
  ctx: z.RefinementCtx,
): AppointmentRecurrence | undefined {
  const { start, timeZone } = series;
  const first = DateTime.fromISO(start, { zone: 'utc' }).setZone(timeZone);
  const problem = recurrenceRuleProblem(body.rrule, first, series.allDay);
  if (problem) {
    ctx.addIssue({ code: 'custom', path: ['recurrence', 'rrule'], message: problem });
    return undefined;
  }
  const rule = normalizeRule(body.rrule);
  const seen = new Set<string>();
  // Each exception's occurrence by its local date, for the checks on the whole series below.
  const indexByDate = new Map<string, number>();
  const exceptions: StoredException[] = [];
  body.exceptions.forEach((e, i) => {
    const path = (field: string) => ['recurrence', 'exceptions', i, field];
    if (series.allDay && !DATE_ONLY.test(e.originalStart))
      return ctx.addIssue({
        code: 'custom',
        path: path('originalStart'),
        message: 'must be a date such as 2030-03-05 (the series is all-day)',
      });
    const originalDate = DateTime.fromISO(e.originalStart, { zone: timeZone }).toISODate();
    if (!originalDate)
      return ctx.addIssue({ code: 'custom', path: path('originalStart'), message: 'is not a valid date' });
    if (seen.has(originalDate))
      return ctx.addIssue({
        code: 'custom',
        path: path('originalStart'),
        message: 'names an occurrence another exception names',
      });
    seen.add(originalDate);
    indexByDate.set(originalDate, i);
    if (!isOccurrenceDate({ start, timeZone, allDay: series.allDay, recurrence: { rule } }, originalDate)) {
      return ctx.addIssue({
        code: 'custom',
        path: path('originalStart'),
        message: `is not an occurrence of the series (no occurrence on ${originalDate})`,
      });
    }
    if (e.cancelled) {
      if (e.start || e.end || e.title)
        return ctx.addIssue({
          code: 'custom',
          path: path('cancelled'),
          message: 'a cancelled occurrence takes no start, end or title',
        });
      return void exceptions.push({ originalDate, cancelled: true });
    }
    if (!e.start && !e.end && !e.title)
      return ctx.addIssue({
        code: 'custom',
        path: path('start'),
        message: 'an exception needs cancelled: true, or a start, end or title',
      });
    if (e.end && !e.start) return ctx.addIssue({ code: 'custom', path: path('start'), message: 'is needed with end' });
    const out: StoredException = { originalDate };
    if (e.start) {
      const times = movedTimes({ start: e.start, end: e.end }, series);
      if ('field' in times) return ctx.addIssue({ code: 'custom', path: path(times.field), message: times.message });
      Object.assign(out, times);
    }
    if (e.title) out.title = e.title;
    exceptions.push(out);
  });
  exceptions.sort((a, b) => a.originalDate.localeCompare(b.originalDate));
  const recurrence: AppointmentRecurrence = { rule, ...(exceptions.length ? { exceptions } : {}) };
  // What Microsoft 365 refuses of a series (Google would take it): better a 400 now than a failed target later.
  const whole = { ...series, recurrence };
  if (occurrencesOverlap(whole)) {
    ctx.addIssue({
      code: 'custom',
      path: ['end'],
      message:
        'makes each occurrence run into the next one; an occurrence must end by the time the next starts (Microsoft 365 refuses overlapping occurrences)',
    });
    return undefined;
  }
  const clashes = movedOccurrenceClashes(whole);
  for (const [date, neighbour] of clashes) {
    ctx.addIssue({
      code: 'custom',
      path: ['recurrence', 'exceptions', indexByDate.get(date)!, 'start'],
      message: `moves the occurrence onto or past the occurrence of ${neighbour}; a moved occurrence must stay between its neighbours (Microsoft 365 keeps occurrences in order and apart)`,
    });
  }
  return clashes.size ? undefined : recurrence;
}
