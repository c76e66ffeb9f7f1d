import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { configRoutes, parseBody, sharedControlRoutes, userOr404 } from '../common/controlRoutes';
import { GoogleError, sendGoogleError } from './errors';
import { listInstances } from './listing';
import type { EmulatorState } from './state';
import type { Calendar } from './store';

/**
 * Test and inspection knobs under /_emulator. No auth, no rate limit, no faults,
 * not counted in stats.
 */
export function controlRoutes(state: EmulatorState): Router {
  const { store } = state;
  const router = sharedControlRoutes(state);
  const calendarOr404 = (req: Request, res: Response): Calendar | undefined => {
    const cal = store.calendars.get(String(req.params.calendarId));
    if (!cal) res.status(404).json({ error: `unknown calendar ${String(req.params.calendarId)}` });
    return cal;
  };
  const describeCalendar = (cal: Calendar) => ({
    id: cal.id,
    summary: cal.summary,
    timeZone: cal.timeZone,
    primary: cal.primary,
    owner: cal.owner,
    forbidden: store.forbiddenCalendars.has(cal.id),
    events: [...cal.events.values()].map((e) => e.resource),
  });

  router.post('/users', (req, res) => {
    const body = parseBody(z.object({ email: z.string().includes('@'), timeZone: z.string().optional() }), req, res);
    if (body) res.json(store.createUser(body.email, body.timeZone));
  });
  router.get('/users/:email/calendars', (req, res) => {
    const email = userOr404(state, req, res);
    if (email) res.json({ calendars: store.calendarsOf(email).map(describeCalendar) });
  });

  router.get('/users/:email/guest-mail', (req, res) => {
    const email = userOr404(state, req, res);
    if (email) res.json({ items: store.guestMail.of(email) });
  });

  router.post('/calendars/:calendarId/forbid', (req, res) => {
    const body = parseBody(z.object({ forbidden: z.boolean() }), req, res);
    if (!body) return;
    const id = String(req.params.calendarId);
    if (body.forbidden) store.forbiddenCalendars.add(id);
    else store.forbiddenCalendars.delete(id);
    res.json({ calendarId: id, forbidden: body.forbidden });
  });
  // Who the calendar is shared with (acl rules, the owner's included).
  router.get('/calendars/:calendarId/acl', (req, res) => {
    const cal = calendarOr404(req, res);
    if (cal) res.json({ calendarId: cal.id, items: store.acl.list(cal) });
  });
  router.get('/calendars/:calendarId/events', (req, res) => {
    const cal = calendarOr404(req, res);
    if (cal) res.json({ calendarId: cal.id, items: describeCalendar(cal).events });
  });
  // events.instances as Google answers it (exceptions in place; cancelled ones with showDeleted=true).
  router.get('/calendars/:calendarId/events/:eventId/instances', (req, res) => {
    const cal = calendarOr404(req, res);
    if (!cal) return;
    try {
      res.json(listInstances(store, cal, String(req.params.eventId), req.query as Record<string, unknown>));
    } catch (err) {
      if (err instanceof GoogleError) sendGoogleError(res, err);
      else throw err;
    }
  });
  // Creates the event, or patches it when the id exists: an edit in Google's own UI.
  router.post('/calendars/:calendarId/events', (req, res) => {
    const cal = calendarOr404(req, res);
    if (!cal) return;
    try {
      res.json(store.insertEvent(cal, (req.body ?? {}) as Record<string, unknown>, { trusted: true }));
    } catch (err) {
      if (err instanceof GoogleError) sendGoogleError(res, err);
      else throw err;
    }
  });
  router.delete('/calendars/:calendarId/events/:eventId', (req, res) => {
    const cal = calendarOr404(req, res);
    if (!cal) return;
    const eventId = String(req.params.eventId);
    try {
      if (req.query.hard === 'true') store.hardDeleteEvent(cal, eventId);
      else store.deleteEvent(cal, eventId);
      res.status(204).end();
    } catch (err) {
      if (err instanceof GoogleError) sendGoogleError(res, err);
      else throw err;
    }
  });

  // Push: live channels, and a switch that makes notifications stop arriving (polling must catch up).
  router.get('/channels', (req, res) => {
    res.json({
      channels: state.channels.live(typeof req.query.calendarId === 'string' ? req.query.calendarId : undefined),
    });
  });
  router.post('/push', (req, res) => {
    const body = parseBody(
      z.object({ enabled: z.boolean().optional(), maxChannelTtlSeconds: z.number().int().min(1).optional() }),
      req,
      res,
    );
    if (!body) return;
    if (body.enabled !== undefined) state.channels.notifier.enabled = body.enabled;
    if (body.maxChannelTtlSeconds !== undefined) state.channels.maxTtlSeconds = body.maxChannelTtlSeconds;
    res.json({ enabled: state.channels.notifier.enabled, maxChannelTtlSeconds: state.channels.maxTtlSeconds });
  });

  router.post('/sync-tokens/expire', (_req, res) => {
    store.expireSyncTokens();
    res.json({ ok: true });
  });

  configRoutes(
    router,
    z.object({
      userRateLimitPerMinute: z.number().int().min(0).optional(),
      rateLimitStyle: z.enum(['403', '429']).optional(),
      accessTokenTtlSeconds: z.number().int().min(1).optional(),
    }),
    (body) => {
      if (body.userRateLimitPerMinute !== undefined) state.limiter.perMinute = body.userRateLimitPerMinute;
      if (body.rateLimitStyle !== undefined) state.limiter.style = body.rateLimitStyle;
      if (body.accessTokenTtlSeconds !== undefined) store.accessTokenTtlSeconds = body.accessTokenTtlSeconds;
    },
    () => ({
      userRateLimitPerMinute: state.limiter.perMinute,
      rateLimitStyle: state.limiter.style,
      accessTokenTtlSeconds: store.accessTokenTtlSeconds,
    }),
  );

  return router;
}
