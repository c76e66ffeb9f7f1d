import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { configRoutes, parseBody, sharedControlRoutes, userOr404 } from '../common/controlRoutes';
import { GraphError, sendGraphError } from './errors';
import { renderEvent, windowsNameOf, type StoredEvent } from './eventRules';
import { renderOccurrence } from './occurrenceRoutes';
import { viewOf } from './occurrences';
import type { EmulatorState } from './state';
import type { Calendar } from './store';

/** An invitee's answers (https://learn.microsoft.com/graph/api/resources/responsestatus). */
const RESPONSES = ['none', 'organizer', 'tentativelyAccepted', 'accepted', 'declined', 'notResponded'];

/** An event as the mailbox owner sees it: its own time zone, every extended property. */
export function inspectEvent(e: StoredEvent): Record<string, unknown> {
  return renderEvent(e, { expandIds: new Set(e.extended.keys()), webBase: 'https://outlook.office365.com' });
}

/**
 * Test and inspection knobs under /_emulator. No auth, no throttling, no faults, not counted
 * in stats. Users are named by e-mail; `calendar` names a mailbox's default calendar.
 */
export function controlRoutes(state: EmulatorState): Router {
  const { store } = state;
  const router = sharedControlRoutes(state);
  /** The user's calendar by id or `calendar`, ignoring the forbid knob (this is the inspector). */
  const calendarOr404 = (req: Request, res: Response): Calendar | undefined => {
    const email = userOr404(state, req, res);
    if (!email) return undefined;
    const raw = String(req.params.calendarId);
    const id = raw === 'calendar' ? store.mailboxes.get(email)!.defaultCalendarId : raw;
    const cal = store.calendars.get(id);
    if (!cal || cal.owner !== email) {
      res.status(404).json({ error: `unknown calendar ${raw}` });
      return undefined;
    }
    return cal;
  };
  const describeCalendar = (cal: Calendar) => ({
    id: cal.id,
    name: cal.name,
    isDefaultCalendar: cal.isDefault,
    owner: cal.owner,
    forbidden: store.forbiddenCalendars.has(cal.id),
    events: [...cal.events.values()].map(inspectEvent),
  });
  const graphErrors = (res: Response, run: () => void): void => {
    try {
      run();
    } catch (err) {
      if (err instanceof GraphError) sendGraphError(res, err);
      else throw err;
    }
  };

  router.post('/users', (req, res) => {
    const body = parseBody(
      z.object({
        email: z.string().includes('@'),
        timeZone: z.string().optional(),
        displayName: z.string().optional(),
      }),
      req,
      res,
    );
    if (body) res.json(store.createUser(body.email, body.timeZone, body.displayName));
  });
  router.get('/users/:email/calendars', (req, res) => {
    const email = userOr404(state, req, res);
    if (email) res.json({ calendars: store.calendarsOf(email).map(describeCalendar) });
  });
  // A calendar the user made in Outlook (no app's marker on it).
  router.post('/users/:email/calendars', (req, res) => {
    const email = userOr404(state, req, res);
    const body = email && parseBody(z.object({ name: z.string().min(1) }), req, res);
    if (email && body)
      graphErrors(res, () => res.status(201).json(describeCalendar(store.createCalendar(email, { name: body.name }))));
  });
  router.get('/users/:email/mail', (req, res) => {
    const email = userOr404(state, req, res);
    if (email) res.json({ items: store.sentMail.get(email) ?? [] });
  });

  // Who the calendar is shared with (calendarPermissions, "My Organization" included).
  router.get('/users/:email/calendars/:calendarId/permissions', (req, res) => {
    const cal = calendarOr404(req, res);
    if (cal) res.json({ calendarId: cal.id, value: store.permissions.list(cal) });
  });
  router.get('/users/:email/calendars/:calendarId/events', (req, res) => {
    const cal = calendarOr404(req, res);
    if (cal) res.json({ calendarId: cal.id, items: describeCalendar(cal).events });
  });
  // A series' occurrences between `from` and `to` (ISO), as calendarView shows them: exceptions in place, cancelled ones absent.
  router.get('/users/:email/calendars/:calendarId/events/:eventId/instances', (req, res) => {
    const cal = calendarOr404(req, res);
    const event = cal?.events.get(String(req.params.eventId));
    if (!event) return void (cal && res.status(404).json({ error: 'unknown event' }));
    const [from, to] = [Date.parse(String(req.query.from ?? '')), Date.parse(String(req.query.to ?? ''))];
    if (Number.isNaN(from) || Number.isNaN(to))
      return void res.status(400).json({ error: 'from and to must be ISO instants' });
    res.json({ items: viewOf(event, from, to).map((o) => renderOccurrence(o, 'UTC')) });
  });
  // An event that appears as if made in Outlook, or received as an invitation (`isOrganizer: false`,
  // with the owner's answer in `responseStatus`: accepted, tentativelyAccepted, declined, ...).
  // `asOutlook: true` stores it as Outlook does: its zones under their Windows names
  // ("Eastern Standard Time"), in start/end and originalStart/EndTimeZone alike
  // (https://learn.microsoft.com/graph/api/resources/event, originalStartTimeZone).
  router.post('/users/:email/calendars/:calendarId/events', (req, res) => {
    const cal = calendarOr404(req, res);
    if (!cal) return;
    const { isOrganizer, responseStatus, asOutlook, ...body } = (req.body ?? {}) as Record<string, unknown>;
    if (responseStatus !== undefined && !RESPONSES.includes(String(responseStatus)))
      return void res.status(400).json({ error: `responseStatus must be one of ${RESPONSES.join(', ')}` });
    if (asOutlook === true) {
      for (const key of ['start', 'end'] as const) {
        const t = body[key] as { timeZone?: unknown } | undefined;
        if (t && typeof t.timeZone === 'string') body[key] = { ...t, timeZone: windowsNameOf(t.timeZone) };
      }
    }
    graphErrors(res, () => {
      const { event } = store.createEvent(cal, body, {
        asAttendee: isOrganizer === false,
        ...(typeof responseStatus === 'string' ? { response: responseStatus } : {}),
      });
      res.status(201).json(inspectEvent(event));
    });
  });
  // The user edits the event in Outlook (a move, a new title, ...): Graph's PATCH rules.
  router.patch('/users/:email/calendars/:calendarId/events/:eventId', (req, res) => {
    const cal = calendarOr404(req, res);
    if (!cal) return;
    graphErrors(res, () => {
      res.json(inspectEvent(store.patchEvent(cal, String(req.params.eventId), req.body ?? {})));
    });
  });
  // The user drags the event to another calendar of the mailbox (or Outlook files it elsewhere): it keeps
  // its immutable id and gets a new default-form one (itemIds.ts). Body: { destinationId }.
  router.post('/users/:email/calendars/:calendarId/events/:eventId/move', (req, res) => {
    const cal = calendarOr404(req, res);
    if (!cal) return;
    graphErrors(res, () => {
      const destination = store.calendar(cal.owner, String((req.body as { destinationId?: unknown })?.destinationId));
      const event = store.moveEvent(cal, String(req.params.eventId), destination);
      state.ids.moved(event.id);
      res.json(inspectEvent(event));
    });
  });
  // The user deletes the event in Outlook.
  router.delete('/users/:email/calendars/:calendarId/events/:eventId', (req, res) => {
    const cal = calendarOr404(req, res);
    if (!cal) return;
    graphErrors(res, () => {
      store.deleteEvent(cal, String(req.params.eventId));
      res.status(204).end();
    });
  });
  router.post('/users/:email/calendars/:calendarId/forbid', (req, res) => {
    const body = parseBody(z.object({ forbidden: z.boolean() }), req, res);
    const cal = body && calendarOr404(req, res);
    if (!body || !cal) return;
    if (body.forbidden) store.forbiddenCalendars.add(cal.id);
    else store.forbiddenCalendars.delete(cal.id);
    res.json({ calendarId: cal.id, forbidden: body.forbidden });
  });

  // Incremental sync and push: expire every delta token; list subscriptions; stop notifications arriving.
  router.post('/delta-tokens/expire', (_req, res) => {
    state.changes.expire();
    res.json({ ok: true });
  });
  router.get('/subscriptions', (req, res) => {
    res.json({
      subscriptions: state.subscriptions.live(
        typeof req.query.user === 'string' ? req.query.user.toLowerCase() : undefined,
      ),
    });
  });
  // Lifecycle notifications on demand (https://learn.microsoft.com/graph/change-notifications-lifecycle-events).
  router.post('/subscriptions/:id/lifecycle', async (req, res) => {
    const body = parseBody(
      z.object({ event: z.enum(['reauthorizationRequired', 'subscriptionRemoved', 'missed']) }).strict(),
      req,
      res,
    );
    if (!body) return;
    const sent = await state.subscriptions.lifecycle(String(req.params.id), body.event);
    if (!sent) res.status(404).json({ error: 'no such subscription with a lifecycleNotificationUrl' });
    else res.json({ sent: body.event });
  });
  // Change notifications of one subscription are lost until `missed` is sent.
  router.post('/subscriptions/:id/lose-notifications', (req, res) => {
    if (!state.subscriptions.loseNotifications(String(req.params.id)))
      res.status(404).json({ error: 'no such subscription' });
    else res.json({ losing: true });
  });
  router.post('/push', (req, res) => {
    const body = parseBody(
      z.object({
        enabled: z.boolean().optional(),
        maxLifetimeMinutes: z.number().int().min(1).optional(),
      }),
      req,
      res,
    );
    if (!body) return;
    if (body.enabled !== undefined) state.subscriptions.notifier.enabled = body.enabled;
    if (body.maxLifetimeMinutes !== undefined) state.subscriptions.maxLifetimeMinutes = body.maxLifetimeMinutes;
    res.json({
      enabled: state.subscriptions.notifier.enabled,
      maxLifetimeMinutes: state.subscriptions.maxLifetimeMinutes,
    });
  });

  configRoutes(
    router,
    z.object({
      requestsPerWindow: z.number().int().min(0).optional(),
      windowSeconds: z.number().int().min(1).optional(),
      concurrencyLimit: z.number().int().min(1).optional(),
      concurrencyRetryAfterSeconds: z.number().int().min(0).optional(),
      accessTokenTtlSeconds: z.number().int().min(1).optional(),
    }),
    (body) => {
      if (body.requestsPerWindow !== undefined) state.throttle.requestsPerWindow = body.requestsPerWindow;
      if (body.windowSeconds !== undefined) state.throttle.windowSeconds = body.windowSeconds;
      if (body.concurrencyLimit !== undefined) state.throttle.concurrencyLimit = body.concurrencyLimit;
      if (body.concurrencyRetryAfterSeconds !== undefined)
        state.throttle.concurrencyRetryAfterSeconds = body.concurrencyRetryAfterSeconds;
      if (body.accessTokenTtlSeconds !== undefined) store.accessTokenTtlSeconds = body.accessTokenTtlSeconds;
    },
    () => ({
      requestsPerWindow: state.throttle.requestsPerWindow,
      windowSeconds: state.throttle.windowSeconds,
      concurrencyLimit: state.throttle.concurrencyLimit,
      concurrencyRetryAfterSeconds: state.throttle.concurrencyRetryAfterSeconds,
      accessTokenTtlSeconds: store.accessTokenTtlSeconds,
    }),
  );

  return router;
}
