import { DateTime } from 'luxon';
import { occurrenceLength, originalStartOf } from '../lib/recurrence';
import type { DesiredAppointment } from '../lib/types';
import type { EventContent, SeriesContent } from './types';

/**
 * A series' part of the event content: the rule, the cancelled occurrences' original starts, and
 * each changed occurrence as its own times and title (rendered by the same templates as the series).
 * `render` renders one appointment state's title (the caller's templates and options).
 */
export function seriesContent(
  desired: DesiredAppointment,
  render: (state: DesiredAppointment) => EventContent,
): SeriesContent | undefined {
  if (!desired.recurrence) return undefined;
  const local = (iso: string) =>
    DateTime.fromISO(iso, { zone: 'utc' }).setZone(desired.timeZone).toISO({ suppressMilliseconds: true })!;
  const exceptions = desired.recurrence.exceptions ?? [];
  const length = occurrenceLength(desired);
  return {
    rule: desired.recurrence.rule,
    cancelled: exceptions
      .filter((e) => e.cancelled)
      .map((e) => originalStartOf(desired, e).toISO({ suppressMilliseconds: true })!),
    changed: exceptions
      .filter((e) => !e.cancelled)
      .map((e) => {
        const original = originalStartOf(desired, e);
        const start = e.start ?? original.toUTC().toISO()!;
        const end = e.end ?? original.plus(length).toUTC().toISO()!;
        const summary =
          e.title !== undefined ? render({ ...desired, title: e.title, recurrence: undefined }).summary : undefined;
        return {
          originalStart: original.toISO({ suppressMilliseconds: true })!,
          start: local(start),
          end: local(end),
          ...(summary ? { summary } : {}),
        };
      }),
  };
}
