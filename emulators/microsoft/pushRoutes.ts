import { prefersImmutableIds } from './itemIds';
import { Router, type Request } from 'express';
import { GraphError, invalidToken, sendGraphError } from './errors';
import { preferredZone, renderEvent } from './eventRules';
import { operation } from './graphRoutes';
import type { OccurrenceView } from './occurrences';
import type { EmulatorState } from './state';

const WEB_BASE = 'https://outlook.office365.com';
const ODATA_JSON =
  'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8';
const DEFAULT_PAGE_SIZE = 10;

interface DeltaState {
  /** Calendar id, window, the change counter the client is in step with (undefined: initial sync). */
  c: string;
  f: number;
  t: number;
  since?: number;
  snap: number;
  skip?: number;
  e: string;
}

/**
 * One event of a delta answer. An occurrence of a series comes sparse: only its id, type,
 * seriesMasterId, start and end; its showAs, isAllDay, subject, responseStatus, sensitivity live on
 * the series master (https://learn.microsoft.com/graph/delta-query-events for the round; the
 * sparse shape as Graph's issue tracker reports it, see ../../shared/PROVIDER-FACTS.md). A changed
 * occurrence (an exception) and a single event come whole. Delta answers carry no extended
 * properties: a client tells its own events apart by id.
 */
function deltaItem(o: OccurrenceView, timeZone: string): Record<string, unknown> {
  const full = renderEvent(o.event, { timeZone, webBase: WEB_BASE });
  if (!o.seriesMasterId) return full;
  if (o.type === 'exception') return { ...full, type: 'exception', seriesMasterId: o.seriesMasterId };
  return {
    '@odata.type': '#microsoft.graph.event',
    '@odata.etag': full['@odata.etag'],
    id: o.event.id,
    type: 'occurrence',
    seriesMasterId: o.seriesMasterId,
    start: full.start,
    end: full.end,
  };
}

const encode = (s: DeltaState): string => Buffer.from(JSON.stringify(s)).toString('base64url');
function decode(token: string): DeltaState | undefined {
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as DeltaState;
  } catch {
    return undefined;
  }
}

const syncStateNotFound = (): GraphError =>
  new GraphError(
    410,
    'SyncStateNotFound',
    'The sync state generation is not found or is invalid. Start a new sync without a token.',
  );

/** `Prefer: odata.maxpagesize=N`. */
function pageSize(req: Request): number {
  const match = /odata\.maxpagesize=(\d+)/i.exec(req.get('prefer') ?? '');
  return match ? Math.max(1, Math.min(Number(match[1]), 1000)) : DEFAULT_PAGE_SIZE;
}

/**
 * Graph v1.0 incremental sync (`calendarView/delta` over a fixed window, with `@odata.nextLink`,
 * `@odata.deltaLink` and `@removed`) and change-notification subscriptions.
 */
export function pushRoutes(state: EmulatorState): Router {
  const { store, changes, subscriptions } = state;
  const router = Router();
  const host = (req: Request): string => `https://${req.get('host')}`;

  router.get(
    ['/me/calendarView/delta', '/me/calendars/:calendarId/calendarView/delta'],
    operation(state, 'calendarView.delta', (email, req) => {
      const cal = store.calendar(
        email,
        req.params.calendarId === undefined ? undefined : String(req.params.calendarId),
      );
      const q = req.query as Record<string, unknown>;
      const token =
        typeof q.$deltatoken === 'string' ? q.$deltatoken : typeof q.$skiptoken === 'string' ? q.$skiptoken : undefined;
      let s: DeltaState;
      if (token !== undefined) {
        const parsed = decode(token);
        if (!parsed || parsed.e !== changes.epoch || parsed.c !== cal.id || parsed.snap > changes.seq(cal.id))
          throw syncStateNotFound();
        // A delta link starts a new round from where the last one ended.
        s =
          typeof q.$deltatoken === 'string'
            ? { ...parsed, since: parsed.snap, snap: changes.seq(cal.id), skip: 0 }
            : parsed;
      } else {
        const from = Date.parse(String(q.startDateTime ?? ''));
        const to = Date.parse(String(q.endDateTime ?? ''));
        if (Number.isNaN(from) || Number.isNaN(to)) {
          throw new GraphError(
            400,
            'ErrorInvalidParameter',
            "This request requires a time window specified by the query string parameters 'startDateTime' and 'endDateTime'.",
          );
        }
        s = { c: cal.id, f: from, t: to, snap: changes.seq(cal.id), skip: 0, e: changes.epoch };
      }
      const { changed, removed } =
        s.since === undefined
          ? { changed: [...cal.events.values()].flatMap((e) => changes.view(e, s.f, s.t)), removed: [] as string[] }
          : changes.changesSince(cal.id, s.since, s.f, s.t);
      const timeZone = preferredZone(req.get('prefer')) ?? 'UTC';
      const all: Array<Record<string, unknown>> = [
        ...changed.map((o) => deltaItem(o, timeZone)),
        ...removed.map((id) => ({ '@odata.type': '#microsoft.graph.event', id, '@removed': { reason: 'deleted' } })),
      ];
      const skip = s.skip ?? 0;
      const size = pageSize(req);
      const body: Record<string, unknown> = {
        '@odata.context': `${host(req)}/v1.0/$metadata#Collection(event)`,
        value: all.slice(skip, skip + size),
      };
      const base = `${host(req)}/v1.0${req.path}`;
      if (skip + size < all.length)
        body['@odata.nextLink'] = `${base}?$skiptoken=${encode({ ...s, skip: skip + size })}`;
      else body['@odata.deltaLink'] = `${base}?$deltatoken=${encode({ ...s, skip: 0 })}`;
      return { status: 200, body };
    }),
  );

  // Subscriptions: create waits for the validation handshake, so it is handled outside operation().
  router.post('/subscriptions', async (req, res) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
    const email = store.authenticate(bearer);
    if (!email) return sendGraphError(res, invalidToken(!bearer));
    try {
      const created = await subscriptions.create(
        store.mailboxes.get(email)!,
        (req.body ?? {}) as Record<string, unknown>,
        prefersImmutableIds(req.get('prefer')),
      );
      res.status(201).type(ODATA_JSON).send(JSON.stringify(created));
    } catch (err) {
      if (err instanceof GraphError) sendGraphError(res, err);
      else throw err;
    }
  });
  router.get(
    '/subscriptions/:id',
    operation(state, 'subscriptions.get', (email, req) => ({
      status: 200,
      body: subscriptions.get(email, String(req.params.id)),
    })),
  );
  router.patch(
    '/subscriptions/:id',
    operation(state, 'subscriptions.update', (email, req) => ({
      status: 200,
      body: subscriptions.renew(email, String(req.params.id), (req.body ?? {}) as Record<string, unknown>),
    })),
  );
  router.post(
    '/subscriptions/:id/reauthorize',
    operation(state, 'subscriptions.reauthorize', (email, req) => {
      subscriptions.reauthorize(email, String(req.params.id));
      return { status: 204 };
    }),
  );
  router.delete(
    '/subscriptions/:id',
    operation(state, 'subscriptions.delete', (email, req) => {
      subscriptions.remove(email, String(req.params.id));
      return { status: 204 };
    }),
  );
  return router;
}
