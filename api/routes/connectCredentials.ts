import { Router, type Request, type Response } from 'express';
import type { z } from 'zod';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { ConnectFailure } from '../../providers/errors';
import type { CredentialsConsent, ProviderModule } from '../../providers/types';
import { credentialsBodySchema, credentialsFormSchema, idSchema, providerNameSchema } from '../schemas';
import { HttpError, param, parse } from '../validation';
import { messagesFor, messagesOf } from '../connect/i18n';
import type { Messages } from '../connect/i18n/en';
import { messagePage } from '../connect/layout';
import { sendPage } from '../connect/send';
import { consentRefusal } from './oauth';
import { createLink, publicLink, type LinkDeps } from './staff';

/**
 * Connecting an account by username and (app-specific) password, for providers without OAuth
 * (CalDAV): `POST /v1/staff/:id/links/<provider>` (tenant key, JSON) and the connect page's form
 * (`POST /connect/credentials/<provider>`, mounted by connectPage.ts behind its session and CSRF
 * checks). The credentials are checked against the server before anything is stored; the lasting
 * secret is sealed like a refresh token. The password is never logged and never answered.
 */

type Credentials = z.infer<typeof credentialsBodySchema>;

const fieldError = (field: string, message: string) =>
  new HttpError(400, 'invalid_request', `${field}: ${message}`, { issues: [{ field, message }] });

/**
 * The server address to discover from: the preset's, the typed one (custom), or a preset's
 * template with the typed server's host (Nextcloud). Checked against the outbound rules: a tenant
 * never makes calsync call an internal address.
 */
export async function serverUrlOf(consent: CredentialsConsent, body: Credentials, config: Config): Promise<string> {
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
  // Loaded when used: the outbound agent is an ES module that the OpenAPI document's importers need not load.
  const { outboundUrlProblem } = await import('../../lib/outbound');
  const problem = outboundUrlProblem(url, { allowedHosts: config.outboundAllowedHosts });
  if (problem) throw fieldError('serverUrl', problem);
  return url;
}

/** What the caller is told when the server refused the credentials or could not be used (never the password), in `t`'s language. */
function credentialsFailureMessage(failure: ConnectFailure, name: string, t: Messages): string {
  const say = t.errors.credentialsRefused;
  switch (failure.reason) {
    case 'wrong_credentials':
      return say.wrongCredentials(name);
    case 'unreachable':
      return say.unreachable(name);
    case 'refused':
      return say.refusedAddress;
    default:
      return say.noServer(name);
  }
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
  // The JSON API answers in English; the connect page in the staff member's language.
  t: Messages = messagesOf('en'),
): Promise<any> {
  const { module, tenantId, staffId } = input;
  if (!(await deps.db('staff').where({ tenant_id: tenantId, id: staffId }).first('id')))
    throw new HttpError(404, 'not_found', `staff member ${staffId} not found`);
  const serverUrl = await serverUrlOf(module.credentials, input, config);
  let verified: { accountEmail: string; secret: string };
  try {
    verified = await module.credentials.verify({ serverUrl, username: input.username, password: input.password });
  } catch (err) {
    if (!(err instanceof ConnectFailure)) throw err;
    logger.warn({ provider: module.name, tenantId, staffId, reason: err.reason, ...err.detail }, 'credentials refused');
    const field = err.reason === 'wrong_credentials' ? 'password' : 'serverUrl';
    throw fieldError(field, credentialsFailureMessage(err, module.displayName, t));
  }
  const refusal = await consentRefusal(deps.db, tenantId, staffId, verified.accountEmail);
  if (refusal) throw fieldError('username', refusal(t).body);
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

/** A refusal page for the form, in the page's style and language: what the server said, and going back. */
function refusalPage(req: Request, res: Response, message: string): void {
  const t = messagesFor(req, req.connectTenant?.settings.connectLanguage);
  sendPage(
    res,
    400,
    messagePage(t, {
      kind: 'bad',
      id: 'refusal',
      title: t.errors.credentialsRefused.title,
      body: message,
      next: t.errors.credentialsRefused.next,
      back: { href: '/connect', label: t.backToCalendars },
    }),
  );
}

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
      await connectByCredentials(
        deps,
        config,
        logger,
        { tenantId: req.connectSession!.tenantId, staffId: staff.id, module, ...credentials },
        messagesFor(req, req.connectTenant?.settings.connectLanguage),
      );
    } catch (err) {
      if (err instanceof HttpError && err.status === 400) return refusalPage(req, res, err.message);
      throw err;
    }
    res.redirect(303, `/connect?staff=${encodeURIComponent(staff.id)}&connected=${encodeURIComponent(module.name)}`);
  };
}
