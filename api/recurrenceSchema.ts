import { DateTime } from 'luxon';
import { z } from 'zod';
import { isOccurrenceDate, normalizeRule, ruleProblem } from '../lib/recurrence';
import type { AppointmentRecurrence } from '../lib/types';

const dateOrDateTime = z
  .string()
  .max(40)
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/, 'must be an ISO 8601 date or date-time');

/** One occurrence that differs from the pattern: named by its original start (or just its date). */
const exceptionSchema = z
  .object({
    originalStart: dateOrDateTime,
    cancelled: z.boolean().default(false),
    start: dateOrDateTime.optional(),
    end: dateOrDateTime.optional(),
    title: z.string().trim().max(300).optional(),
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

/**
 * Validates a recurrence against the appointment's first start (UTC ISO) and zone, and returns it
 * as stored: the rule normalised, exceptions keyed by the occurrence's local date with UTC times.
 * Every problem is an issue on its field (`recurrence.exceptions.1.originalStart: …`).
 */
export function checkRecurrence(body: RecurrenceBody, start: string, end: string, timeZone: string, ctx: z.RefinementCtx): AppointmentRecurrence | undefined {
  const first = DateTime.fromISO(start, { zone: 'utc' }).setZone(timeZone);
  const problem = ruleProblem(body.rrule, first);
  if (problem) {
    ctx.addIssue({ code: 'custom', path: ['recurrence', 'rrule'], message: problem });
    return undefined;
  }
  const rule = normalizeRule(body.rrule);
  const seen = new Set<string>();
  const exceptions: NonNullable<AppointmentRecurrence['exceptions']> = [];
  const lengthMs = Date.parse(end) - Date.parse(start);
  body.exceptions.forEach((e, i) => {
    const path = (field: string) => ['recurrence', 'exceptions', i, field];
    const originalDate = DateTime.fromISO(e.originalStart, { zone: timeZone }).toISODate();
    if (!originalDate) return ctx.addIssue({ code: 'custom', path: path('originalStart'), message: 'is not a valid date' });
    if (seen.has(originalDate)) return ctx.addIssue({ code: 'custom', path: path('originalStart'), message: 'names an occurrence another exception names' });
    seen.add(originalDate);
    if (!isOccurrenceDate({ start, timeZone, recurrence: { rule } }, originalDate)) {
      return ctx.addIssue({ code: 'custom', path: path('originalStart'), message: `is not an occurrence of the series (no occurrence on ${originalDate})` });
    }
    if (e.cancelled) {
      if (e.start || e.end || e.title) return ctx.addIssue({ code: 'custom', path: path('cancelled'), message: 'a cancelled occurrence takes no start, end or title' });
      return void exceptions.push({ originalDate, cancelled: true });
    }
    if (!e.start && !e.end && !e.title) return ctx.addIssue({ code: 'custom', path: path('start'), message: 'an exception needs cancelled: true, or a start, end or title' });
    if (e.end && !e.start) return ctx.addIssue({ code: 'custom', path: path('start'), message: 'is needed with end' });
    const out: NonNullable<AppointmentRecurrence['exceptions']>[number] = { originalDate };
    if (e.start) {
      const s = DateTime.fromISO(e.start, { zone: timeZone });
      const en = e.end ? DateTime.fromISO(e.end, { zone: timeZone }) : s.plus({ milliseconds: lengthMs });
      if (!s.isValid || !e.start.includes('T')) return ctx.addIssue({ code: 'custom', path: path('start'), message: 'must be an ISO 8601 date-time' });
      if (!en.isValid || (e.end && !e.end.includes('T'))) return ctx.addIssue({ code: 'custom', path: path('end'), message: 'must be an ISO 8601 date-time' });
      if (en <= s) return ctx.addIssue({ code: 'custom', path: path('end'), message: 'must be after start' });
      out.start = s.toUTC().toISO()!;
      out.end = en.toUTC().toISO()!;
    }
    if (e.title) out.title = e.title;
    exceptions.push(out);
  });
  exceptions.sort((a, b) => a.originalDate.localeCompare(b.originalDate));
  return { rule, ...(exceptions.length ? { exceptions } : {}) };
}
