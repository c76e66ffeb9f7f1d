import type { Request, RequestHandler, Router } from 'express';
import { DateTime } from 'luxon';
import { GraphError } from './errors';
import { renderEvent } from './eventRules';
import { parseOccurrenceId, viewOf, type OccurrenceView } from './occurrences';
import type { OperationResult } from '../common/operation';
import type { Calendar, MicrosoftStore } from './store';

const WEB_BASE = 'https://outlook.office365.com';

type Route = (op: string, handler: (email: string, req: Request) => OperationResult) => RequestHandler;

export interface OccurrenceRouteDeps {
  store: MicrosoftStore;
  route: Route;
  /** The calendar the collection path names (the mailbox scope: the default calendar). */
  calendarOf: (email: string, req: Request) => Calendar;
  answerZone: (req: Request) => string;
}

/** An occurrence as Graph shows it: the event, its type, its series and its original start. */
export function renderOccurrence(o: OccurrenceView, timeZone: string): Record<string, unknown> {
  return {
    ...renderEvent(o.event, { timeZone, webBase: WEB_BASE }),
    ...(o.seriesMasterId
      ? { type: o.type ?? 'occurrence', seriesMasterId: o.seriesMasterId, originalStart: o.originalStart }
      : {}),
  };
}

function windowParam(req: Request, name: string): number {
  const raw = req.query[name];
  const parsed = typeof raw === 'string' ? DateTime.fromISO(raw, { zone: 'utc' }) : undefined;
  if (!parsed?.isValid) {
    throw new GraphError(
      400,
      'ErrorInvalidParameter',
      'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.',
    );
  }
  return parsed.toMillis();
}

/**
 * Graph's occurrences of a series: `GET …/events/{id}/instances?startDateTime&endDateTime` and
 * GET/PATCH/DELETE of an occurrence's id (a change makes it an exception, a delete cancels it).
 * Registered before the plain event routes; other ids fall through to them.
 */
export function occurrenceRoutes(mailbox: Router, path: string, deps: OccurrenceRouteDeps): void {
  const { store, route } = deps;
  mailbox.get(
    `${path}/:eventId/instances`,
    route('events.instances', (email, req) => {
      const cal = deps.calendarOf(email, req);
      const { event } = store.findEvent(email, String(req.params.eventId), cal);
      const [from, to] = [windowParam(req, 'startDateTime'), windowParam(req, 'endDateTime')];
      const occurrences = event.fields.recurrence ? viewOf(event, from, to) : [];
      return { status: 200, body: { value: occurrences.map((o) => renderOccurrence(o, deps.answerZone(req))) } };
    }),
  );

  const onlyOccurrences =
    (handler: RequestHandler): RequestHandler =>
    (req, res, next) =>
      parseOccurrenceId(String(req.params.eventId)) ? handler(req, res, next) : next();
  mailbox.get(
    `${path}/:eventId`,
    onlyOccurrences(
      route('events.get', (email, req) => {
        const { occurrence } = store.findOccurrence(deps.calendarOf(email, req), String(req.params.eventId));
        return { status: 200, body: renderOccurrence(occurrence, deps.answerZone(req)) };
      }),
    ),
  );
  mailbox.patch(
    `${path}/:eventId`,
    onlyOccurrences(
      route('events.update', (email, req) => {
        const changed = store.changeOccurrence(deps.calendarOf(email, req), String(req.params.eventId), {
          patch: req.body,
        });
        return { status: 200, body: renderOccurrence(changed!, deps.answerZone(req)), applied: true };
      }),
    ),
  );
  mailbox.delete(
    `${path}/:eventId`,
    onlyOccurrences(
      route('events.delete', (email, req) => {
        store.changeOccurrence(deps.calendarOf(email, req), String(req.params.eventId), { cancel: true });
        return { status: 204, applied: true };
      }),
    ),
  );
}
