import { randomUUID } from 'node:crypto';
import { Router, type Request, type RequestHandler } from 'express';
import { runWithFaults, type ErrorWire, type OperationResult } from '../common/operation';
import { GraphError, accessDenied, injected, invalidToken, sendGraphError } from './errors';
import { preferredZone, renderEvent, type StoredEvent } from './eventRules';
import { occurrenceRoutes } from './occurrenceRoutes';
import { parseCalendarFilter, parseEventQuery } from './odata';
import type { EmulatorState } from './state';
import type { Calendar } from './store';

type Handler = (email: string, req: Request) => OperationResult;

const GRAPH_ERRORS: ErrorWire<GraphError> = {
  is: (err): err is GraphError => err instanceof GraphError,
  send: sendGraphError,
  failedAfterApply: () => injected(500, 0),
};

const ODATA_JSON =
  'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8';
const WEB_BASE = 'https://outlook.office365.com';

function bearerToken(req: Request): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  return match?.[1];
}

const param = (req: Request, name: string): string | undefined =>
  req.params[name] === undefined ? undefined : String(req.params[name]);

/**
 * Every /v1.0 call goes through the same steps: count, authenticate, check the addressed
 * mailbox, throttle (concurrency, then the request window), inject faults, run, then possibly
 * fail after applying.
 */
export function operation(state: EmulatorState, op: string, handler: Handler): RequestHandler {
  return async (req, res) => {
    const token = bearerToken(req);
    const email = state.store.authenticate(token);
    res.on('finish', () => state.stats.record(email, op, res.statusCode));
    if (!email) return sendGraphError(res, invalidToken(!token));
    const userParam = param(req, 'userId');
    if (userParam !== undefined) {
      const mailbox = state.store.findMailbox(userParam);
      if (!mailbox)
        return sendGraphError(
          res,
          new GraphError(404, 'ErrorInvalidUser', `The requested user '${userParam}' is invalid.`),
        );
      // Delegated access to other people's mailboxes is not emulated.
      if (mailbox.email !== email) return sendGraphError(res, accessDenied());
    }
    const admitted = state.throttle.enter(email);
    if (admitted instanceof GraphError) return sendGraphError(res, admitted);
    res.on('finish', admitted);
    res.on('close', admitted);

    const user = email; // a const the handler closure can see as a string
    const result = await runWithFaults(state, GRAPH_ERRORS, op, user, res, () => handler(user, req));
    if (!result) return;
    res.setHeader('request-id', randomUUID());
    res.setHeader('client-request-id', req.get('client-request-id') ?? randomUUID());
    if (result.body === undefined) {
      res.status(result.status).end();
      return;
    }
    const text = JSON.stringify(result.body);
    // Ids in the form the request asked for (itemIds.ts).
    res
      .status(result.status)
      .type(ODATA_JSON)
      .send(res.locals.regularIds ? state.ids.toRegular(text) : text);
  };
}

function calendarResource(cal: Calendar, email: string, displayName: string): object {
  return {
    '@odata.etag': `W/"${cal.changeKey}"`,
    id: cal.id,
    name: cal.name,
    color: 'auto',
    hexColor: '',
    isDefaultCalendar: cal.isDefault,
    changeKey: cal.changeKey,
    canShare: true,
    canViewPrivateItems: true,
    canEdit: true,
    allowedOnlineMeetingProviders: ['teamsForBusiness'],
    defaultOnlineMeetingProvider: 'teamsForBusiness',
    isTallyingResponses: true,
    isRemovable: !cal.isDefault,
    owner: { name: displayName, address: email },
  };
}

/** How a path names the events it works on: the whole mailbox, the default calendar, or one by id. */
type Scope = 'mailbox' | 'default' | 'byId';
const COLLECTIONS: Array<[string, Scope]> = [
  ['/events', 'mailbox'],
  ['/calendar/events', 'default'],
  ['/calendars/:calendarId/events', 'byId'],
];

export function graphRoutes(state: EmulatorState): Router {
  const { store } = state;
  const v1 = Router();
  const mailbox = Router({ mergeParams: true });
  v1.use('/me', mailbox);
  v1.use('/users/:userId', mailbox);
  const route = (op: string, handler: Handler): RequestHandler => operation(state, op, handler);
  const displayName = (email: string) => store.mailboxes.get(email)?.displayName ?? email;

  /** The calendar a collection path names; the mailbox scope writes to the default calendar. */
  const calendarOf = (email: string, req: Request, scope: Scope): Calendar =>
    store.calendar(email, scope === 'byId' ? param(req, 'calendarId') : undefined);
  const eventOf = (email: string, req: Request, scope: Scope): { cal: Calendar; event: StoredEvent } =>
    store.findEvent(email, param(req, 'eventId')!, scope === 'mailbox' ? undefined : calendarOf(email, req, scope));
  const answerZone = (req: Request): string => preferredZone(req.get('prefer')) ?? 'UTC';
  const host = (req: Request): string => `https://${req.get('host')}`;

  // The signed-in user (or the addressed one): who a connected account is.
  mailbox.get(
    '/',
    route('users.get', (email, req) => {
      const box = store.mailboxes.get(email)!;
      return {
        status: 200,
        body: {
          '@odata.context': `${host(req)}/v1.0/$metadata#users/$entity`,
          id: box.id,
          displayName: box.displayName,
          mail: box.email,
          userPrincipalName: box.email,
        },
      };
    }),
  );
  mailbox.get(
    '/calendars',
    route('calendars.list', (email, req) => {
      const matches = parseCalendarFilter(typeof req.query.$filter === 'string' ? req.query.$filter : undefined);
      return {
        status: 200,
        body: {
          '@odata.context': `${host(req)}/v1.0/$metadata#users('${encodeURIComponent(email)}')/calendars`,
          value: store
            .calendarsOf(email)
            .filter((c) => matches(c.extended))
            .map((c) => calendarResource(c, email, displayName(email))),
        },
      };
    }),
  );
  mailbox.post(
    '/calendars',
    route('calendars.create', (email, req) => {
      const cal = store.createCalendar(email, req.body);
      // A create, for the 'firstInsert' fault: made, then answered 500 the first time.
      return {
        status: 201,
        body: calendarResource(cal, email, displayName(email)),
        applied: true,
        inserted: { calendarId: `calendars:${email}`, key: cal.name },
      };
    }),
  );
  mailbox.get(
    '/calendar',
    route('calendars.get', (email) => ({
      status: 200,
      body: calendarResource(store.calendar(email, undefined), email, displayName(email)),
    })),
  );
  mailbox.get(
    '/calendars/:calendarId',
    route('calendars.get', (email, req) => ({
      status: 200,
      body: calendarResource(store.calendar(email, param(req, 'calendarId')), email, displayName(email)),
    })),
  );

  // Sharing a calendar (team calendars' members): Graph's calendarPermissions, on the default calendar or by id.
  for (const [prefix, byId] of [
    ['/calendar', false],
    ['/calendars/:calendarId', true],
  ] as const) {
    const sharedCalendar = (email: string, req: Request) =>
      store.calendar(email, byId ? param(req, 'calendarId') : undefined);
    mailbox.get(
      `${prefix}/calendarPermissions`,
      route('calendarPermissions.list', (email, req) => ({
        status: 200,
        body: { value: store.permissions.list(sharedCalendar(email, req)) },
      })),
    );
    mailbox.post(
      `${prefix}/calendarPermissions`,
      route('calendarPermissions.create', (email, req) => ({
        status: 201,
        body: store.permissions.create(sharedCalendar(email, req), req.body ?? {}),
      })),
    );
    mailbox.patch(
      `${prefix}/calendarPermissions/:permissionId`,
      route('calendarPermissions.update', (email, req) => ({
        status: 200,
        body: store.permissions.update(sharedCalendar(email, req), param(req, 'permissionId')!, req.body ?? {}),
      })),
    );
    mailbox.delete(
      `${prefix}/calendarPermissions/:permissionId`,
      route('calendarPermissions.delete', (email, req) => {
        store.permissions.delete(sharedCalendar(email, req), param(req, 'permissionId')!);
        return { status: 204 };
      }),
    );
  }

  mailbox.delete(
    '/calendars/:calendarId',
    route('calendars.delete', (email, req) => {
      store.deleteCalendar(store.calendar(email, param(req, 'calendarId')));
      return { status: 204 };
    }),
  );

  for (const [path, scope] of COLLECTIONS) {
    mailbox.get(
      path,
      route('events.list', (email, req) => {
        const query = parseEventQuery(req.query as Record<string, unknown>);
        const calendars =
          scope === 'mailbox'
            ? store.calendarsOf(email).filter((c) => !store.forbiddenCalendars.has(c.id))
            : [calendarOf(email, req, scope)];
        const matching = calendars.flatMap((c) => [...c.events.values()]).filter(query.filter);
        const page = matching.slice(query.skip, query.skip + query.top);
        const timeZone = answerZone(req);
        const body: Record<string, unknown> = {
          '@odata.context': `${host(req)}/v1.0/$metadata#users('${encodeURIComponent(email)}')/events`,
          value: page.map((e) =>
            renderEvent(e, { timeZone, expandIds: query.expandIds, select: query.select, webBase: WEB_BASE }),
          ),
        };
        if (query.skip + query.top < matching.length) {
          const next = new URL(req.originalUrl, host(req));
          next.searchParams.set('$skip', String(query.skip + query.top));
          body['@odata.nextLink'] = next.toString();
        }
        return { status: 200, body };
      }),
    );

    mailbox.post(
      path,
      route('events.create', (email, req) => {
        const cal = calendarOf(email, req, scope);
        const { event, deduplicated } = store.createEvent(cal, req.body);
        return {
          status: 201,
          body: renderEvent(event, { timeZone: answerZone(req), webBase: WEB_BASE }),
          applied: !deduplicated,
          inserted: deduplicated ? undefined : { calendarId: cal.id, key: event.transactionId ?? event.id },
        };
      }),
    );

    occurrenceRoutes(mailbox, path, {
      store,
      route,
      calendarOf: (email, req) => calendarOf(email, req, scope),
      answerZone,
    });
    mailbox.get(
      `${path}/:eventId`,
      route('events.get', (email, req) => {
        const query = parseEventQuery(req.query as Record<string, unknown>);
        const { event } = eventOf(email, req, scope);
        return {
          status: 200,
          body: renderEvent(event, {
            timeZone: answerZone(req),
            expandIds: query.expandIds,
            select: query.select,
            webBase: WEB_BASE,
          }),
        };
      }),
    );

    mailbox.patch(
      `${path}/:eventId`,
      route('events.update', (email, req) => {
        const { cal, event } = eventOf(email, req, scope);
        const updated = store.patchEvent(cal, event.id, req.body, req.get('if-match'));
        return {
          status: 200,
          body: renderEvent(updated, { timeZone: answerZone(req), webBase: WEB_BASE }),
          applied: true,
        };
      }),
    );

    mailbox.delete(
      `${path}/:eventId`,
      route('events.delete', (email, req) => {
        const { cal, event } = eventOf(email, req, scope);
        store.deleteEvent(cal, event.id);
        return { status: 204, applied: true };
      }),
    );

    mailbox.post(
      `${path}/:eventId/cancel`,
      route('events.cancel', (email, req) => {
        const { cal, event } = eventOf(email, req, scope);
        store.cancelEvent(cal, event.id, req.body);
        return { status: 202, applied: true };
      }),
    );
  }

  v1.use(
    route('unknown', (_email, req) => {
      const segment = req.path.split('/').filter(Boolean).pop() ?? '';
      throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);
    }),
  );
  return v1;
}
