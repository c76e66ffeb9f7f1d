import type { EventContent, ObservedEvent } from './types';

/** What an event calsync wrote does to the staff member's availability. */
export function expectedShowAs(content: EventContent): ObservedEvent['showAs'] {
  if (content.cancelled) return 'free';
  return content.tentative ? 'tentative' : 'busy';
}

/**
 * The fields a person changed in the remote calendar since calsync wrote `expected` there (empty:
 * in step). Only what calsync writes is compared; times as instants, so a zone change that keeps
 * the instant is not drift. A description the provider may reformat is compared only when known.
 */
export function driftedFields(observed: ObservedEvent, expected: EventContent): string[] {
  const changed: string[] = [];
  if (expected.allDay) {
    // Dates against dates: the content's wall-clock times start with the local date. A timed event is a change.
    if (observed.allDay?.start !== expected.start.slice(0, 10)) changed.push('start');
    if (observed.allDay?.end !== expected.end.slice(0, 10)) changed.push('end');
  } else {
    if (observed.allDay || observed.start !== Date.parse(expected.start)) changed.push('start');
    if (observed.allDay || observed.end !== Date.parse(expected.end)) changed.push('end');
  }
  if (observed.summary !== expected.summary) changed.push('summary');
  if (observed.location !== (expected.location ?? '')) changed.push('location');
  if (observed.description !== undefined && observed.description.trim() !== expected.description.trim())
    changed.push('description');
  if (observed.showAs !== expectedShowAs(expected)) changed.push('showAs');
  return changed;
}
