import { Router, type Request, type RequestHandler } from 'express';
import { aclRuleResource } from './acl';
import { runWithFaults, type ErrorWire, type OperationResult } from '../common/operation';
import { GoogleError, authError, backendError, invalid, notFound, sendGoogleError } from './errors';
import type { SendUpdates } from './guestMail';
import { listEvents, listInstances } from './listing';
import type { EmulatorState } from './state';
import type { EventResource } from './eventRules';
import type { Calendar } from './store';

type Handler = (email: string, req: Request) => OperationResult;

const GOOGLE_ERRORS: ErrorWire<GoogleError> = {
  is: (err): err is GoogleError => err instanceof GoogleError,
  send: sendGoogleError,
  failedAfterApply: () => backendError(500),
};

function bearerToken(req: Request): string | undefined {
  const header = req.get('authorization');
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (match) return match[1];
  const fromQuery = req.query.access_token;
  return typeof fromQuery === 'string' ? fromQuery : undefined;
}

function checkSendUpdates(req: Request): SendUpdates {
  const value = req.query.sendUpdates;
  if (value !== undefined && !['all', 'externalOnly', 'none'].includes(String(value))) {
    throw invalid('Invalid sendUpdates value.', 'sendUpdates');
  }
  return (value as SendUpdates | undefined) ?? 'none';
}

const param = (req: Request, name: string): string => String(req.params[name]);

function calendarResource(cal: Calendar): object {
  return {
    kind: 'calendar#calendar',
    etag: cal.etag,
    id: cal.id,
    summary: cal.summary,
    ...(cal.description !== undefined ? { description: cal.description } : {}),
    timeZone: cal.timeZone,
    conferenceProperties: { allowedConferenceSolutionTypes: ['hangoutsMeet'] },
  };
}

function calendarListEntry(cal: Calendar): object {
  return {
    kind: 'calendar#calendarListEntry',
    etag: cal.etag,
    id: cal.id,
    summary: cal.summary,
    ...(cal.description !== undefined ? { description: cal.description } : {}),
    timeZone: cal.timeZone,
    accessRole: 'owner',
    defaultReminders: [],
    selected: true,
    ...(cal.primary ? { primary: true } : {}),
  };
}

/**
 * Every /calendar/v3 call goes through the same steps, in Google's order as far
 * as a client can tell: count, authenticate, rate-limit, inject faults, run,
 * then possibly fail after applying.
 */
function operation(state: EmulatorState, op: string, handler: Handler): RequestHandler {
  return async (req, res) => {
    const email = state.store.authenticate(bearerToken(req));
    res.on('finish', () => state.stats.record(email, op, res.statusCode));
    if (!email) return sendGoogleError(res, authError());
    const limited = state.limiter.check(email);
    if (limited) return sendGoogleError(res, limited);
    const user = email; // a const the handler closure can see as a string
    const result = await runWithFaults(state, GOOGLE_ERRORS, op, user, res, () => handler(user, req));
    if (!result) return;
    if (result.body === undefined) res.status(result.status).end();
    else res.status(result.status).json(result.body);
  };
}

export function calendarRoutes(state: EmulatorState): Router {
  const { store } = state;
  const router = Router();
  const route = (op: string, handler: Handler): RequestHandler => operation(state, op, handler);
  const calendarOf = (email: string, req: Request): Calendar => store.ownedCalendar(email, param(req, 'calendarId'));
  const ifMatch = (req: Request): string | undefined => req.get('if-match');
  const mailGuests = (
    email: string,
    event: EventResource,
    kind: 'invitation' | 'update' | 'cancellation',
    sendUpdates: SendUpdates,
  ) =>
    store.guestMail.record(
      email,
      event,
      kind,
      sendUpdates,
      (guest) => store.users.has(guest.toLowerCase()) || store.users.has(guest),
    );

  router.get(
    '/users/me/calendarList',
    route('calendarList.list', (email) => ({
      status: 200,
      body: {
        kind: 'calendar#calendarList',
        etag: store.nextEtag(),
        items: store.calendarsOf(email).map(calendarListEntry),
      },
    })),
  );
  router.get(
    '/users/me/calendarList/:calendarId',
    route('calendarList.get', (email, req) => ({
      status: 200,
      body: calendarListEntry(calendarOf(email, req)),
    })),
  );

  router.post(
    '/calendars',
    route('calendars.insert', (email, req) => {
      const cal = store.insertCalendar(email, req.body ?? {});
      // A create, for the 'firstInsert' fault: made, then answered 500 the first time.
      return {
        status: 200,
        body: calendarResource(cal),
        applied: true,
        inserted: { calendarId: `calendars:${email}`, key: cal.summary },
      };
    }),
  );
  router.get(
    '/calendars/:calendarId',
    route('calendars.get', (email, req) => ({
      status: 200,
      body: calendarResource(calendarOf(email, req)),
    })),
  );
  router.delete(
    '/calendars/:calendarId',
    route('calendars.delete', (email, req) => {
      store.deleteCalendar(calendarOf(email, req));
      return { status: 204 };
    }),
  );

  // Sharing a calendar (team calendars' members): Google's ACL resource.
  router.get(
    '/calendars/:calendarId/acl',
    route('acl.list', (email, req) => ({
      status: 200,
      body: {
        kind: 'calendar#acl',
        etag: store.nextEtag(),
        items: store.acl.list(calendarOf(email, req)).map((r) => aclRuleResource(r, store.nextEtag())),
      },
    })),
  );
  router.post(
    '/calendars/:calendarId/acl',
    route('acl.insert', (email, req) => ({
      status: 200,
      body: aclRuleResource(store.acl.insert(calendarOf(email, req), req.body ?? {}), store.nextEtag()),
    })),
  );
  router.delete(
    '/calendars/:calendarId/acl/:ruleId',
    route('acl.delete', (email, req) => {
      store.acl.delete(calendarOf(email, req), param(req, 'ruleId'));
      return { status: 204 };
    }),
  );

  router.get(
    '/calendars/:calendarId/events',
    route('events.list', (email, req) => ({
      status: 200,
      body: listEvents(store, calendarOf(email, req), req.query as Record<string, unknown>),
    })),
  );
  router.post(
    '/calendars/:calendarId/events',
    route('events.insert', (email, req) => {
      const cal = calendarOf(email, req);
      const sendUpdates = checkSendUpdates(req);
      const event = store.insertEvent(cal, req.body ?? {});
      mailGuests(email, event, 'invitation', sendUpdates);
      return { status: 200, body: event, applied: true, inserted: { calendarId: cal.id, key: event.id } };
    }),
  );
  router.get(
    '/calendars/:calendarId/events/:eventId',
    route('events.get', (email, req) => {
      const event = store.getEvent(calendarOf(email, req), param(req, 'eventId'));
      const ifNoneMatch = req.get('if-none-match');
      if (
        ifNoneMatch !== undefined &&
        ifNoneMatch
          .split(',')
          .map((t) => t.trim())
          .includes(event.etag)
      ) {
        return { status: 304 };
      }
      return { status: 200, body: event };
    }),
  );
  router.put(
    '/calendars/:calendarId/events/:eventId',
    route('events.update', (email, req) => {
      const cal = calendarOf(email, req);
      const sendUpdates = checkSendUpdates(req);
      const event = store.updateEvent(cal, param(req, 'eventId'), req.body ?? {}, ifMatch(req));
      mailGuests(email, event, 'update', sendUpdates);
      return { status: 200, body: event, applied: true };
    }),
  );
  router.patch(
    '/calendars/:calendarId/events/:eventId',
    route('events.patch', (email, req) => {
      const cal = calendarOf(email, req);
      const sendUpdates = checkSendUpdates(req);
      const event = store.patchEvent(cal, param(req, 'eventId'), req.body ?? {}, ifMatch(req));
      mailGuests(email, event, 'update', sendUpdates);
      return { status: 200, body: event, applied: true };
    }),
  );
  router.delete(
    '/calendars/:calendarId/events/:eventId',
    route('events.delete', (email, req) => {
      const cal = calendarOf(email, req);
      const sendUpdates = checkSendUpdates(req);
      mailGuests(email, store.deleteEvent(cal, param(req, 'eventId'), ifMatch(req)), 'cancellation', sendUpdates);
      return { status: 204, applied: true };
    }),
  );

  router.get(
    '/calendars/:calendarId/events/:eventId/instances',
    route('events.instances', (email, req) => ({
      status: 200,
      body: listInstances(store, calendarOf(email, req), param(req, 'eventId'), req.query as Record<string, unknown>),
    })),
  );
  router.post(
    '/calendars/:calendarId/events/watch',
    route('events.watch', (email, req) => ({
      status: 200,
      body: state.channels.watch(email, calendarOf(email, req), req.body ?? {}),
    })),
  );
  router.post(
    '/channels/stop',
    route('channels.stop', (email, req) => {
      state.channels.stop(email, req.body ?? {});
      return { status: 204 };
    }),
  );

  router.use(
    route('unknown', () => {
      throw notFound();
    }),
  );
  return router;
}
