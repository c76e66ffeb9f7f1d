import { randomBytes } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import {
  CONNECT_LINK_TTL_MS,
  CONNECT_SESSION_TTL_MS,
  ConnectSessionSigner,
  type ConnectSession,
} from '../connectSession';
import { idSchema, providerNameSchema } from '../schemas';
import { HttpError, parse } from '../validation';
import { credentialsFormHandler, credentialsForms } from './connectCredentials';
import { disconnectLink } from './links';
import { startAuthorization } from './oauth';
import type { LinkDeps } from './staff';

/**
 * The connect page, as the Versum add-on has it: the CRM asks (tenant key) for a short-lived URL,
 * `POST /v1/connect-sessions` → `{ url }`, and shows it to the person. Opening it sets an HttpOnly
 * session cookie; the page then lists the tenant's staff, connects Google or Microsoft through
 * the OAuth flow (which returns to the page), shows each link's health and disconnects.
 * Plain HTML forms, no script: every mutating form carries a CSRF token, and its Origin is checked.
 */
export const CONNECT_COOKIE = 'calsync_connect';

const connectSessionBodySchema = z.object({ staffId: idSchema.optional() }).strict();
const connectFormSchema = z.object({
  csrf: z.string().min(1).max(200),
  staffId: idSchema,
  provider: providerNameSchema,
});
const disconnectFormSchema = z.object({ csrf: z.string().min(1).max(200), staffId: idSchema });

const STATUS_LABELS: Record<string, string> = {
  active: 'Healthy',
  connecting: 'Connecting…',
  needs_reauth: 'Needs re-authorisation',
  disconnecting: 'Disconnecting…',
  disconnected: 'Disconnected',
};

const REASONS: Record<string, string> = {
  invalid_grant: 'access was revoked or expired; connect the account again',
  no_refresh_token: 'calsync holds no lasting access to this account; connect it again',
  'disconnected by request': 'disconnected from this page or by the app',
};

export const escapeHtml = (s: unknown): string =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

declare module 'express-serve-static-core' {
  interface Request {
    connectSession?: ConnectSession;
  }
}

export function connectPageRoutes(deps: LinkDeps, config: Config, logger: Logger): Router {
  const { db, temporal, taskQueue } = deps;
  const router = Router();
  const signer = new ConnectSessionSigner(config.tokenKeys);
  const publicOrigin = new URL(config.publicApiUrl).origin;
  const connectUrl = `${config.publicApiUrl.replace(/\/+$/, '')}/connect`;

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

  const html = (res: Response, status: number, body: (nonce: string) => string) => {
    const nonce = randomBytes(12).toString('base64');
    res.status(status);
    res.setHeader('Cache-Control', 'no-store');
    // Not no-referrer: with it, Chromium sends `Origin: null` on the page's own form posts.
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader(
      'Content-Security-Policy',
      `default-src 'none'; style-src 'nonce-${nonce}'; frame-ancestors 'none'; base-uri 'none'`,
    );
    res.type('html').send(body(nonce));
  };
  const expiredPage = (res: Response) =>
    html(
      res,
      401,
      () =>
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Session expired</title></head>' +
        '<body><h1>This page has expired</h1><p>Open the calendar connection page again from your app.</p></body></html>',
    );

  // Opening the CRM's URL: swap the URL token for the cookie, and take the token out of the address bar.
  router.get('/connect', async (req, res, next) => {
    if (req.query.session === undefined) return next();
    const link = signer.verify(typeof req.query.session === 'string' ? req.query.session : undefined, 'link');
    if (!link) return expiredPage(res);
    // Single use: a URL seen in a mail, a log or over a shoulder opens nothing a second time.
    const [first] = await deps
      .db('connect_links_used')
      .insert({ nonce: link.nonce, tenant_id: link.tenantId, expires_at: new Date(link.expiresAt) })
      .onConflict('nonce')
      .ignore()
      .returning('nonce');
    if (!first) return expiredPage(res);
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

  const requireSession = (req: Request, res: Response, next: NextFunction) => {
    const session = signer.verify(readCookie(req, CONNECT_COOKIE), 'session');
    if (!session) return expiredPage(res);
    req.connectSession = session;
    next();
  };

  /** Mutations: the page's own CSRF token, and (when the browser says) from the page's own origin. */
  const requireCsrf = (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (
      (origin !== undefined && origin !== publicOrigin) ||
      !signer.checkCsrf(req.connectSession!, (req.body as { csrf?: unknown })?.csrf)
    ) {
      html(
        res,
        403,
        () =>
          '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Refused</title></head>' +
          '<body><h1>Refused</h1><p>This request did not come from the calendar connection page. Reload the page and try again.</p></body></html>',
      );
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

  router.get('/connect', requireSession, async (req, res) => {
    const session = req.connectSession!;
    const [tenant, staff] = await Promise.all([
      db('tenants').where({ id: session.tenantId }).first('name', 'settings'),
      db('staff')
        .where({ tenant_id: session.tenantId })
        .modify((q) => {
          if (session.staffId) q.where({ id: session.staffId });
        })
        .orderBy('name')
        .limit(1000)
        .select('id', 'name'),
    ]);
    const selected = await allowedStaff(
      session,
      typeof req.query.staff === 'string' ? req.query.staff : session.staffId,
    );
    const links = selected
      ? await db('calendar_links')
          .where({ tenant_id: session.tenantId, staff_id: selected.id })
          .orderBy('created_at')
          .select('id', 'provider', 'account_email', 'status', 'status_reason', 'created_at')
      : [];
    const csrf = signer.csrfToken(session);
    const business = tenant?.settings?.businessName ?? tenant?.name ?? '';
    const providers = deps.providers
      .all()
      .filter((p) => p.oauth)
      .map((p) => ({ name: p.name, displayName: p.displayName }));
    const passwordForms = selected
      ? credentialsForms({
          providers: deps.providers.all(),
          csrf,
          staffId: selected.id,
          needsPassword: links.filter((l) => l.status === 'needs_reauth'),
        })
      : '';
    html(res, 200, (nonce) =>
      renderPage({
        nonce,
        business,
        staff,
        selected,
        links,
        csrf,
        providers,
        passwordForms,
        displayNames: Object.fromEntries(deps.providers.all().map((p) => [p.name, p.displayName])),
      }),
    );
  });

  const form = express.urlencoded({ extended: false, limit: '8kb' });

  router.post('/connect/links', requireSession, form, requireCsrf, async (req, res) => {
    const session = req.connectSession!;
    const body = parse(connectFormSchema, req.body);
    const staff = await allowedStaff(session, body.staffId);
    if (!staff) throw new HttpError(404, 'not_found', `staff member ${body.staffId} not found`);
    const authorizeUrl = await startAuthorization(deps, config, {
      tenantId: session.tenantId,
      staffId: staff.id,
      provider: body.provider,
      returnUrl: `/connect?staff=${encodeURIComponent(staff.id)}`,
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

  router.post('/connect/links/:id/disconnect', requireSession, form, requireCsrf, async (req, res) => {
    const session = req.connectSession!;
    const body = parse(disconnectFormSchema, req.body);
    const staff = await allowedStaff(session, body.staffId);
    const linkId = String(req.params.id);
    // Only a link of the staff member the page shows: the session's tenant is checked by disconnectLink too.
    const link =
      staff &&
      (await db('calendar_links').where({ tenant_id: session.tenantId, staff_id: staff.id, id: linkId }).first('id'));
    if (!link) throw new HttpError(404, 'not_found', `link ${linkId} not found`);
    await disconnectLink(db, temporal, taskQueue, session.tenantId, linkId);
    res.redirect(303, `/connect?staff=${encodeURIComponent(staff.id)}`);
  });

  return router;
}

interface PageModel {
  nonce: string;
  business: string;
  staff: { id: string; name: string }[];
  selected?: { id: string; name: string };
  links: { id: string; provider: string; account_email: string; status: string; status_reason: string | null }[];
  csrf: string;
  /** The providers a staff member can connect by consent. */
  providers: { name: string; displayName: string }[];
  /** The forms of providers connected by username and password (connectCredentials.ts). */
  passwordForms: string;
  /** Every provider's name as people know it, for the list of links. */
  displayNames: Record<string, string>;
}

/** The whole page; every value from the database goes through escapeHtml. */
function renderPage({
  nonce,
  business,
  staff,
  selected,
  links,
  csrf,
  providers,
  passwordForms,
  displayNames,
}: PageModel): string {
  const displayName = (name: string) => displayNames[name] ?? name;
  const options = staff
    .map(
      (s) =>
        `<option value="${escapeHtml(s.id)}"${selected?.id === s.id ? ' selected' : ''}>${escapeHtml(s.name)}</option>`,
    )
    .join('');
  const rows = links
    .map((l) => {
      const reason = l.status_reason ? `${REASONS[l.status_reason] ?? l.status_reason} (${l.status_reason})` : '';
      const canDisconnect = l.status !== 'disconnected' && l.status !== 'disconnecting';
      return (
        `<li class="link" data-link-id="${escapeHtml(l.id)}" data-provider="${escapeHtml(l.provider)}" data-status="${escapeHtml(l.status)}">` +
        `<strong>${escapeHtml(displayName(l.provider))}</strong> ${escapeHtml(l.account_email)} — ` +
        `<span class="status">${escapeHtml(STATUS_LABELS[l.status] ?? l.status)}</span>` +
        (reason ? ` <span class="reason">${escapeHtml(reason)}</span>` : '') +
        (canDisconnect
          ? `<form method="post" action="/connect/links/${encodeURIComponent(l.id)}/disconnect">` +
            `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><input type="hidden" name="staffId" value="${escapeHtml(selected!.id)}">` +
            `<button type="submit" class="disconnect">Disconnect</button></form>`
          : '') +
        '</li>'
      );
    })
    .join('');
  const connect = selected
    ? `<section><h2>Connect a calendar for ${escapeHtml(selected.name)}</h2>` +
      providers
        .map(
          (p) =>
            `<form method="post" action="/connect/links"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}">` +
            `<input type="hidden" name="staffId" value="${escapeHtml(selected.id)}"><input type="hidden" name="provider" value="${escapeHtml(p.name)}">` +
            `<button type="submit" id="connect-${escapeHtml(p.name)}">Connect ${escapeHtml(p.displayName)}</button></form>`,
        )
        .join('') +
      passwordForms +
      `</section><section><h2>Connected calendars</h2>` +
      (rows ? `<ul id="links">${rows}</ul>` : '<p id="no-links">No calendar connected yet.</p>') +
      '</section>'
    : '';
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>Calendar connections — ${escapeHtml(business)}</title>` +
    `<style nonce="${nonce}">body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}` +
    `form{display:inline-block;margin:.25rem .5rem .25rem 0}li{margin:.5rem 0}.reason{color:#a33}.status{font-weight:600}</style></head><body>` +
    `<h1>Calendar connections — ${escapeHtml(business)}</h1>` +
    `<form method="get" action="/connect"><label>Staff member <select name="staff" id="staff">${options}</select></label> <button type="submit" id="pick">Show</button></form>` +
    connect +
    '</body></html>'
  );
}
