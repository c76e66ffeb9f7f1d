import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { messagePage } from '../connect/layout';
import { sendPage } from '../connect/send';
import { messagesFor, type Messages } from '../connect/i18n';
import { renderConfirmDisconnect, renderConnectPage, type LinkView, type ProviderChoice } from '../connect/page';
import { CONNECT_CSS, CONNECT_CSS_PATH } from '../connect/styles';
import {
  CONNECT_LINK_TTL_MS,
  CONNECT_SESSION_TTL_MS,
  ConnectSessionSigner,
  type ConnectSession,
} from '../connectSession';
import { idSchema, providerNameSchema } from '../schemas';
import { HttpError, parse } from '../validation';
import { credentialsFormHandler } from './connectCredentials';
import { disconnectLink } from './links';
import { startAuthorization } from './oauth';
import type { LinkDeps } from './staff';

export { escapeHtml } from '../connect/html';

/**
 * The connect page, as the Versum add-on has it: the CRM asks (tenant key) for a short-lived URL,
 * `POST /v1/connect-sessions` → `{ url }`, and shows it to the person. Opening it sets an HttpOnly
 * session cookie; the page then shows the staff member's calendars (or lets the person pick
 * themselves when the CRM named nobody), connects one through the provider's consent (which returns
 * to the page's success screen), shows each link's health and disconnects after a confirmation.
 * Server-rendered HTML forms, no script: every mutating form carries a CSRF token, and its Origin
 * is checked. Texts: api/connect/i18n, in the tenant's `connectLanguage` or the browser's.
 */
export const CONNECT_COOKIE = 'calsync_connect';

export const connectSessionBodySchema = z.object({ staffId: idSchema.optional() }).strict();
export const connectFormSchema = z.object({
  csrf: z.string().min(1).max(200),
  staffId: idSchema,
  provider: providerNameSchema,
});
export const disconnectFormSchema = z.object({ csrf: z.string().min(1).max(200), staffId: idSchema });

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

interface ConnectTenant {
  business: string;
  settings: Record<string, unknown>;
}

declare module 'express-serve-static-core' {
  interface Request {
    connectSession?: ConnectSession;
    connectTenant?: ConnectTenant;
  }
}

export function connectPageRoutes(deps: LinkDeps, config: Config, logger: Logger): Router {
  const { db, temporal, taskQueue } = deps;
  const router = Router();
  const signer = new ConnectSessionSigner(config.tokenKeys);
  const publicOrigin = new URL(config.publicApiUrl).origin;
  const connectUrl = `${config.publicApiUrl.replace(/\/+$/, '')}/connect`;

  router.get('/connect/assets/:file', (req, res, next) => {
    if (`/connect/assets/${req.params.file}` !== CONNECT_CSS_PATH) return next();
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.type('css').send(CONNECT_CSS);
  });

  router.post('/v1/connect-sessions', async (req, res) => {
    const body = parse(connectSessionBodySchema, req.body);
    if (body.staffId && !(await db('staff').where({ tenant_id: req.tenantId!, id: body.staffId }).first('id'))) {
      throw new HttpError(404, 'not_found', `staff member ${body.staffId} not found`);
    }
    const { token, session } = signer.issue('link', req.tenantId!, body.staffId, CONNECT_LINK_TTL_MS);
    res.setHeader('Cache-Control', 'no-store');
    res
      .status(201)
      .json({ url: `${connectUrl}?session=${token}`, expiresAt: new Date(session.expiresAt).toISOString() });
  });

  async function tenantOf(tenantId: string): Promise<ConnectTenant> {
    const row = await db('tenants').where({ id: tenantId }).first('name', 'settings');
    const settings = (row?.settings ?? {}) as Record<string, unknown>;
    return { business: String(settings.businessName ?? row?.name ?? ''), settings };
  }
  const textsOf = (req: Request): Messages => messagesFor(req, req.connectTenant?.settings.connectLanguage);

  const expiredPage = (req: Request, res: Response) => {
    const t = textsOf(req);
    sendPage(res, 401, messagePage(t, { kind: 'bad', id: 'expired', ...t.errors.expired }));
  };

  // Opening the CRM's URL: swap the URL token for the cookie, and take the token out of the address bar.
  router.get('/connect', async (req, res, next) => {
    if (req.query.session === undefined) return next();
    const link = signer.verify(typeof req.query.session === 'string' ? req.query.session : undefined, 'link');
    if (!link) return expiredPage(req, res);
    // Single use: a URL seen in a mail, a log or over a shoulder opens nothing a second time.
    const [first] = await deps
      .db('connect_links_used')
      .insert({ nonce: link.nonce, tenant_id: link.tenantId, expires_at: new Date(link.expiresAt) })
      .onConflict('nonce')
      .ignore()
      .returning('nonce');
    if (!first) {
      req.connectTenant = await tenantOf(link.tenantId);
      return expiredPage(req, res);
    }
    void deps
      .db('connect_links_used')
      .where('expires_at', '<', new Date())
      .delete()
      .catch(() => undefined);
    const { token } = signer.issue('session', link.tenantId, link.staffId, CONNECT_SESSION_TTL_MS);
    res.cookie(CONNECT_COOKIE, token, {
      httpOnly: true,
      sameSite: 'lax',
      secure: req.secure,
      path: '/connect',
      maxAge: CONNECT_SESSION_TTL_MS,
    });
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, link.staffId ? `/connect?staff=${encodeURIComponent(link.staffId)}` : '/connect');
  });

  const requireSession = async (req: Request, res: Response, next: NextFunction) => {
    const session = signer.verify(readCookie(req, CONNECT_COOKIE), 'session');
    if (!session) return expiredPage(req, res);
    req.connectSession = session;
    req.connectTenant = await tenantOf(session.tenantId);
    next();
  };

  /** Mutations: the page's own CSRF token, and (when the browser says) from the page's own origin. */
  const requireCsrf = (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (
      (origin !== undefined && origin !== publicOrigin) ||
      !signer.checkCsrf(req.connectSession!, (req.body as { csrf?: unknown })?.csrf)
    ) {
      const t = textsOf(req);
      sendPage(res, 403, messagePage(t, { kind: 'bad', id: 'refused', ...t.errors.refused }));
      return;
    }
    next();
  };

  /** The staff member the page may act for: one of the tenant's, and the session's own when it names one. */
  async function allowedStaff(
    session: ConnectSession,
    staffId: string | undefined,
  ): Promise<{ id: string; name: string } | undefined> {
    if (!staffId || (session.staffId && session.staffId !== staffId)) return undefined;
    return db('staff').where({ tenant_id: session.tenantId, id: staffId }).first('id', 'name');
  }

  const providerChoices = (): ProviderChoice[] =>
    deps.providers
      .all()
      .filter((p) => p.oauth || p.credentials)
      .map((p) => ({
        name: p.name,
        displayName: p.displayName,
        color: p.brandColor,
        ...(p.oauth ? {} : { presets: p.credentials!.presets }),
      }));

  const linksOf = (tenantId: string, staffId: string): Promise<(LinkView & { created_at: Date })[]> =>
    db('calendar_links')
      .where({ tenant_id: tenantId, staff_id: staffId })
      .orderBy('created_at')
      .limit(100)
      .select('id', 'provider', 'account_email', 'status', 'status_reason', 'created_at');

  router.get('/connect', requireSession, async (req, res) => {
    const session = req.connectSession!;
    const tenant = req.connectTenant!;
    const staff: { id: string; name: string }[] = await db('staff')
      .where({ tenant_id: session.tenantId })
      .modify((q) => {
        if (session.staffId) q.where({ id: session.staffId });
      })
      .orderBy('name')
      .limit(1000)
      .select('id', 'name');
    // A session for one staff member is that person's page whatever the address asks for.
    const selected = await allowedStaff(
      session,
      session.staffId ?? (typeof req.query.staff === 'string' ? req.query.staff : undefined),
    );
    const links = selected ? await linksOf(session.tenantId, selected.id) : [];
    // Back from a consent: the newest link of that provider is the one just connected.
    const connected =
      typeof req.query.connected === 'string'
        ? links.filter((l) => l.provider === req.query.connected && l.status !== 'disconnected').at(-1)
        : undefined;
    sendPage(
      res,
      200,
      renderConnectPage({
        t: textsOf(req),
        business: tenant.business,
        csrf: signer.csrfToken(session),
        providers: providerChoices(),
        staff,
        staffFixed: Boolean(session.staffId),
        selected,
        links,
        connected,
      }),
    );
  });

  const form = express.urlencoded({ extended: false, limit: '8kb' });

  router.post('/connect/links', requireSession, form, requireCsrf, async (req, res) => {
    const session = req.connectSession!;
    const body = parse(connectFormSchema, req.body);
    const staff = await allowedStaff(session, body.staffId);
    if (!staff) throw new HttpError(404, 'not_found', `staff member ${body.staffId} not found`);
    const staffParam = encodeURIComponent(staff.id);
    const authorizeUrl = await startAuthorization(deps, config, {
      tenantId: session.tenantId,
      staffId: staff.id,
      provider: body.provider,
      returnUrl: `/connect?staff=${staffParam}&connected=${encodeURIComponent(body.provider)}`,
    });
    res.redirect(303, authorizeUrl);
  });

  // Providers connected by username and password (CalDAV): connectCredentials.ts.
  router.post(
    '/connect/credentials/:provider',
    requireSession,
    form,
    requireCsrf,
    credentialsFormHandler(deps, config, logger, (req, staffId) => allowedStaff(req.connectSession!, staffId)),
  );

  /** The staff member's own link, for the page's session; a 404 page otherwise. */
  async function pageLink(req: Request, staffId: unknown): Promise<{ staff: { id: string }; link: LinkView }> {
    const session = req.connectSession!;
    const staff = await allowedStaff(session, typeof staffId === 'string' ? staffId : undefined);
    const linkId = String(req.params.id);
    // Only a link of the staff member the page shows: the session's tenant is checked by disconnectLink too.
    const link =
      staff &&
      (await db('calendar_links')
        .where({ tenant_id: session.tenantId, staff_id: staff.id, id: linkId })
        .first('id', 'provider', 'account_email', 'status', 'status_reason'));
    if (!staff || !link) throw new HttpError(404, 'not_found', `link ${linkId} not found`);
    return { staff, link };
  }

  // The plain-words confirmation before a disconnect: what happens to the events, and a way back.
  router.get('/connect/links/:id/disconnect', requireSession, async (req, res) => {
    const { staff, link } = await pageLink(req, req.query.staff);
    const provider = providerChoices().find((p) => p.name === link.provider) ?? {
      name: link.provider,
      displayName: link.provider,
    };
    sendPage(
      res,
      200,
      renderConfirmDisconnect({
        t: textsOf(req),
        business: req.connectTenant!.business,
        csrf: signer.csrfToken(req.connectSession!),
        staffId: staff.id,
        link,
        provider,
        keepEvents: req.connectTenant!.settings.onDisconnect === 'keep',
      }),
    );
  });

  router.post('/connect/links/:id/disconnect', requireSession, form, requireCsrf, async (req, res) => {
    const session = req.connectSession!;
    const body = parse(disconnectFormSchema, req.body);
    const { staff, link } = await pageLink(req, body.staffId);
    await disconnectLink(db, temporal, taskQueue, session.tenantId, link.id);
    res.redirect(303, `/connect?staff=${encodeURIComponent(staff.id)}`);
  });

  // The page's own failures as pages in its style and language (the API's JSON errors elsewhere).
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!req.path.startsWith('/connect') || !(err instanceof HttpError)) return next(err);
    const t = textsOf(req);
    const back = req.connectSession ? { href: '/connect', label: t.backToCalendars } : undefined;
    const page =
      err.status === 404
        ? { id: 'not-found', ...t.errors.notFound }
        : { id: 'failed', title: t.errors.failed.title, body: err.message, next: t.errors.failed.next };
    sendPage(res, err.status, messagePage(t, { kind: 'bad', business: req.connectTenant?.business, back, ...page }));
  });

  return router;
}
