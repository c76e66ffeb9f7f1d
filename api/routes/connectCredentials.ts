import { randomBytes } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { outboundUrlProblem } from '../../lib/outbound';
import { ConnectFailure } from '../../providers/errors';
import type { CredentialsConsent, ProviderModule } from '../../providers/types';
import { idSchema, providerNameSchema } from '../schemas';
import { HttpError, param, parse } from '../validation';
import { connectFailureMessage, consentRefusal } from './oauth';
import { createLink, publicLink, type LinkDeps } from './staff';

/**
 * Connecting an account by username and (app-specific) password, for providers without OAuth
 * (CalDAV): `POST /v1/staff/:id/links/<provider>` (tenant key, JSON) and the connect page's form
 * (`POST /connect/credentials/<provider>`, mounted by connectPage.ts behind its session and CSRF
 * checks). The credentials are checked against the server before anything is stored; the lasting
 * secret is sealed like a refresh token. The password is never logged and never answered.
 */

const credentialsFields = {
  preset: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be a preset id such as icloud')
    .optional(),
  serverUrl: z.string().trim().max(2048).optional(),
  username: z.string().trim().min(1, 'is required').max(320),
  password: z.string().min(1, 'is required').max(1024),
};
export const credentialsBodySchema = z.object(credentialsFields).strict();
const credentialsFormSchema = z.object({ csrf: z.string().min(1).max(200), staffId: idSchema, ...credentialsFields });

type Credentials = z.infer<typeof credentialsBodySchema>;

const fieldError = (field: string, message: string) =>
  new HttpError(400, 'invalid_request', `${field}: ${message}`, { issues: [{ field, message }] });

/**
 * The server address to discover from: the preset's, the typed one (custom), or a preset's
 * template with the typed server's host (Nextcloud). Checked against the outbound rules: a tenant
 * never makes calsync call an internal address.
 */
export function serverUrlOf(consent: CredentialsConsent, body: Credentials, config: Config): string {
  const preset = body.preset ? consent.presets.find((p) => p.id === body.preset) : undefined;
  if (body.preset && !preset)
    throw fieldError('preset', `must be one of ${consent.presets.map((p) => p.id).join(', ')}`);
  let url = preset?.serverUrl ?? '';
  if (!url || url.includes('{host}')) {
    const typed = body.serverUrl ?? '';
    if (!typed) throw fieldError('serverUrl', 'is required for this server');
    if (url.includes('{host}')) {
      let host: string;
      try {
        host = new URL(/^[a-z]+:\/\//i.test(typed) ? typed : `https://${typed}`).host;
      } catch {
        throw fieldError('serverUrl', 'must be a server address such as cloud.example.com');
      }
      url = url.replace('{host}', host);
    } else url = typed;
  }
  const problem = outboundUrlProblem(url, { allowedHosts: config.outboundAllowedHosts });
  if (problem) throw fieldError('serverUrl', problem);
  return url;
}

/** The module of a provider that connects by credentials, or undefined (OAuth providers, unknown names). */
function credentialsModule(
  deps: LinkDeps,
  name: string,
): (ProviderModule & { credentials: CredentialsConsent }) | undefined {
  const module = deps.providers.find(name);
  return module?.credentials ? (module as ProviderModule & { credentials: CredentialsConsent }) : undefined;
}

/**
 * Checks the credentials, the tenant's consent rule, and stores the link (or gives a link that
 * needs re-authorisation its new password, which resumes its held writes). A refusal is an
 * HttpError 400 that says what to fix; nothing is stored.
 */
export async function connectByCredentials(
  deps: LinkDeps,
  config: Config,
  logger: Logger,
  input: {
    tenantId: string;
    staffId: string;
    module: ProviderModule & { credentials: CredentialsConsent };
  } & Credentials,
): Promise<any> {
  const { module, tenantId, staffId } = input;
  if (!(await deps.db('staff').where({ tenant_id: tenantId, id: staffId }).first('id')))
    throw new HttpError(404, 'not_found', `staff member ${staffId} not found`);
  const serverUrl = serverUrlOf(module.credentials, input, config);
  let verified: { accountEmail: string; secret: string };
  try {
    verified = await module.credentials.verify({ serverUrl, username: input.username, password: input.password });
  } catch (err) {
    if (!(err instanceof ConnectFailure)) throw err;
    logger.warn({ provider: module.name, tenantId, staffId, reason: err.reason, ...err.detail }, 'credentials refused');
    const field = err.reason === 'wrong_credentials' ? 'password' : 'serverUrl';
    throw fieldError(field, connectFailureMessage(err, module.displayName));
  }
  const refusal = await consentRefusal(deps.db, tenantId, staffId, verified.accountEmail);
  if (refusal) throw fieldError('username', refusal);
  const row = await createLink(deps, {
    tenantId,
    staffId,
    provider: module.name,
    accountEmail: verified.accountEmail,
    refreshToken: verified.secret,
  });
  logger.info({ provider: module.name, tenantId, staffId, linkId: row.id }, 'calendar connected by credentials');
  return row;
}

/** The JSON API: mounted before the refresh-token attach route, which keeps every provider without `credentials`. */
export function credentialsApiRoutes(deps: LinkDeps, config: Config, logger: Logger): Router {
  const router = Router();
  router.post('/v1/staff/:id/links/:provider', async (req, res, next) => {
    const module = credentialsModule(deps, param(req, 'provider', providerNameSchema));
    if (!module) return next();
    const staffId = param(req, 'id', idSchema);
    const body = parse(credentialsBodySchema, req.body);
    const row = await connectByCredentials(deps, config, logger, { tenantId: req.tenantId!, staffId, module, ...body });
    res.status(201).json(publicLink(row));
  });
  return router;
}

/** A refusal page for the form (the person goes back and corrects it); the message is escaped. */
function refusalPage(res: Response, status: number, message: string): void {
  const nonce = randomBytes(12).toString('base64');
  res.status(status).setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Security-Policy', `default-src 'none'; style-src 'nonce-${nonce}'; frame-ancestors 'none'`);
  res
    .type('html')
    .send(
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not connected</title></head>' +
        `<body><h1>Not connected</h1><p id="refusal">${escapeHtml(message)}</p><p>Go back and try again.</p></body></html>`,
    );
}

const escapeHtml = (s: unknown): string =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/**
 * The connect page's form post (session and CSRF already checked by the page's router):
 * `staffFor` answers the staff member the session may act for.
 */
export function credentialsFormHandler(
  deps: LinkDeps,
  config: Config,
  logger: Logger,
  staffFor: (req: Request, staffId: string) => Promise<{ id: string } | undefined>,
) {
  return async (req: Request, res: Response): Promise<void> => {
    const module = credentialsModule(deps, param(req, 'provider', providerNameSchema));
    if (!module) throw fieldError('provider', 'does not connect by username and password');
    const body = parse(credentialsFormSchema, req.body);
    const staff = await staffFor(req, body.staffId);
    if (!staff) throw new HttpError(404, 'not_found', `staff member ${body.staffId} not found`);
    const { csrf: _csrf, staffId: _staff, ...credentials } = body;
    // An empty field of the form means "not given".
    if (!credentials.serverUrl) delete credentials.serverUrl;
    try {
      await connectByCredentials(deps, config, logger, {
        tenantId: req.connectSession!.tenantId,
        staffId: staff.id,
        module,
        ...credentials,
      });
    } catch (err) {
      if (err instanceof HttpError && err.status === 400) return refusalPage(res, 400, err.message);
      throw err;
    }
    res.redirect(303, `/connect?staff=${encodeURIComponent(staff.id)}`);
  };
}

/**
 * A plain form per provider that connects by credentials, for the connect page: the presets, the
 * server address (custom and Nextcloud), username and password, and a short word on app-specific
 * passwords. A link of that provider needing re-authorisation asks for its new password.
 */
export function credentialsForms(input: {
  providers: ProviderModule[];
  csrf: string;
  staffId: string;
  needsPassword: { provider: string; account_email: string }[];
}): string {
  return input.providers
    .filter((p) => p.credentials)
    .map((p) => {
      const reauth = input.needsPassword.find((l) => l.provider === p.name);
      const id = (what: string) => escapeHtml(`${p.name}-${what}`);
      const presets = p
        .credentials!.presets.map(
          (preset) => `<option value="${escapeHtml(preset.id)}">${escapeHtml(preset.label)}</option>`,
        )
        .join('');
      const help = p.credentials!.presets.find((preset) => preset.passwordHelpUrl);
      return (
        `<form method="post" action="/connect/credentials/${encodeURIComponent(p.name)}" id="${id('form')}" class="credentials">` +
        `<h3>${reauth ? `Enter the new password of ${escapeHtml(reauth.account_email)}` : `Connect ${escapeHtml(p.displayName)} (iCloud, Fastmail, Nextcloud…)`}</h3>` +
        `<input type="hidden" name="csrf" value="${escapeHtml(input.csrf)}"><input type="hidden" name="staffId" value="${escapeHtml(input.staffId)}">` +
        `<p><label>Server <select name="preset" id="${id('preset')}">${presets}</select></label></p>` +
        `<p><label>Server address (other servers and Nextcloud) <input type="url" name="serverUrl" id="${id('server')}" placeholder="https://cloud.example.com" autocomplete="url"></label></p>` +
        `<p><label>Username <input name="username" id="${id('username')}" required autocomplete="username" value="${escapeHtml(reauth?.account_email ?? '')}"></label></p>` +
        `<p><label>App-specific password <input type="password" name="password" id="${id('password')}" required autocomplete="current-password"></label></p>` +
        `<p class="help">For iCloud, do not use your Apple ID password: create an app-specific password at appleid.apple.com (Sign-In and Security → App-Specific Passwords) and enter it here.` +
        (help?.passwordHelpUrl ? ` <a href="${escapeHtml(help.passwordHelpUrl)}" rel="noreferrer">How?</a>` : '') +
        ` calsync checks it with the server before anything is saved.</p>` +
        `<button type="submit" id="${id('connect')}">Connect</button></form>`
      );
    })
    .join('');
}
