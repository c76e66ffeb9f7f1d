import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { OAUTH_STATE_TTL_MS, OAuthStateSigner, pkcePair } from '../oauthState';
import { idSchema, oauthStartBodySchema } from '../schemas';
import { ConnectFailure } from '../../providers/errors';
import type { ProviderRegistry } from '../../providers/registry';
import type { OAuthConsent } from '../../providers/types';
import { HttpError, param, parse } from '../validation';
import { createLink, type LinkDeps } from './staff';

/** The connect flow failed in a way the person in the browser should read; nothing was stored. */
class ConnectError extends Error {}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(res: Response, status: number, title: string, message: string): void {
  res.status(status).setHeader('Cache-Control', 'no-store');
  res
    .type('html')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
        `<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`,
    );
}

function redirectUriOf(config: Config, provider: string): string {
  return `${config.publicApiUrl.replace(/\/+$/, '')}/oauth/callback/${provider}`;
}

/**
 * Starts a consent: stores the PKCE verifier (sealed) and where to return, answers the provider's
 * authorize URL with a signed, single-use state. The API route and the connect page both use it.
 */
export async function startAuthorization(
  { db, secrets, providers }: Pick<LinkDeps, 'db' | 'secrets' | 'providers'>,
  config: Config,
  start: { tenantId: string; staffId: string; provider: string; returnUrl?: string },
): Promise<string> {
  const consent = consentOf(providers, start.provider);
  if (!(await db('staff').where({ tenant_id: start.tenantId, id: start.staffId }).first('id'))) {
    throw new HttpError(404, 'not_found', `staff member ${start.staffId} not found`);
  }
  const id = randomUUID();
  const expiresAt = Date.now() + OAUTH_STATE_TTL_MS;
  const pkce = pkcePair();
  await db('oauth_states').insert({
    id,
    tenant_id: start.tenantId,
    staff_id: start.staffId,
    provider: start.provider,
    code_verifier_sealed: secrets.seal(pkce.verifier),
    return_url: start.returnUrl ?? null,
    expires_at: new Date(expiresAt),
  });
  // Housekeeping off the request's path: rows long past their expiry serve nothing.
  void db('oauth_states')
    .where('expires_at', '<', new Date(Date.now() - 24 * 3600 * 1000))
    .delete()
    .catch(() => undefined);

  return consent.authorizeUrl({
    redirectUri: redirectUriOf(config, start.provider),
    state: new OAuthStateSigner(config.tokenKeys).sign(id, expiresAt),
    codeChallenge: pkce.challenge,
  });
}

/** The provider's consent flow; a provider that has none (or no such provider) is a 400 naming the field. */
export function consentOf(providers: ProviderRegistry, name: string): OAuthConsent {
  const consent = providers.find(name)?.oauth;
  if (consent) return consent;
  const offered = providers
    .all()
    .filter((p) => p.oauth)
    .map((p) => p.name);
  throw new HttpError(400, 'invalid_request', `provider: must be one of ${offered.join(', ')}`, {
    issues: [{ field: 'provider', message: `must be one of ${offered.join(', ')}` }],
  });
}

/**
 * Why this account may not be connected to this staff member (the tenant's `consentAccounts`), or
 * undefined when it may: by default only the staff member's own e-mail, so nobody can link an
 * account of theirs to somebody else's calendar sync.
 */
export async function consentRefusal(
  db: LinkDeps['db'],
  tenantId: string,
  staffId: string,
  accountEmail: string,
): Promise<string | undefined> {
  const [tenant, staff] = await Promise.all([
    db('tenants').where({ id: tenantId }).first('settings'),
    db('staff').where({ tenant_id: tenantId, id: staffId }).first('email'),
  ]);
  const rule = tenant?.settings?.consentAccounts ?? 'staffEmail';
  const account = accountEmail.toLowerCase();
  if (rule === 'any') return undefined;
  if (rule === 'staffEmail') {
    if (!staff?.email)
      return 'This staff member has no e-mail address in the app yet, so no account can be connected for them. Nothing was connected.';
    if (String(staff.email).toLowerCase() === account) return undefined;
    return `The account you chose (${accountEmail}) is not this staff member's. Connect with the account of the staff member's own e-mail address. Nothing was connected.`;
  }
  const domain = account.split('@')[1] ?? '';
  if ((rule.domains as string[]).includes(domain)) return undefined;
  return `Accounts of ${domain} cannot be connected here. Nothing was connected.`;
}

/** What the person in the browser (or the API's caller) is told when the provider's half of the flow fails. */
export function connectFailureMessage(failure: ConnectFailure, name: string): string {
  switch (failure.reason) {
    case 'unreachable':
      return `${name} could not be reached. Try connecting again.`;
    case 'refused':
      return `${name} did not accept the authorization. Try connecting again.`;
    case 'no_offline_access':
      return `${name} granted no lasting (offline) access. Try connecting again.`;
    case 'no_account_address':
      return `The ${name} account's address could not be read. Try connecting again.`;
    case 'wrong_credentials':
      return `The ${name} server did not accept this username and password. Check them (iCloud needs an app-specific password, not your Apple ID password). Nothing was connected.`;
    case 'not_a_calendar_server':
      return `No ${name} calendar server answered at that address. Check the server address. Nothing was connected.`;
  }
}

/**
 * Connecting a calendar by consent (OAuth 2.0 authorization code + PKCE):
 * `POST /v1/staff/:id/links` (tenant key) answers the provider's authorize URL; the provider sends
 * the browser to `GET /oauth/callback/:provider`, which redeems the code and stores the link.
 * The PKCE verifier stays in oauth_states (sealed); the `state` is signed, expires and is single-use.
 */
export function oauthRoutes(links: LinkDeps, config: Config, logger: Logger): Router {
  const { db, secrets, providers } = links;
  const router = Router();
  const signer = new OAuthStateSigner(config.tokenKeys);

  router.post('/v1/staff/:id/links', async (req, res) => {
    const staffId = param(req, 'id', idSchema);
    const body = parse(oauthStartBodySchema, req.body);
    res
      .status(201)
      .json({ authorizeUrl: await startAuthorization(links, config, { tenantId: req.tenantId!, staffId, ...body }) });
  });

  /** Marks the state's row used (once, before it expires) and answers it; otherwise why not. */
  async function consumeState(provider: string, rawState: unknown): Promise<any> {
    const verified = signer.verify(typeof rawState === 'string' ? rawState : undefined);
    if (!verified.ok) {
      throw new ConnectError(
        verified.reason === 'expired'
          ? 'This connection link has expired. Start again from the app.'
          : 'This connection link is not valid. Start again from the app.',
      );
    }
    const [row] = await db('oauth_states')
      .where({ id: verified.id, provider })
      .whereNull('used_at')
      .where('expires_at', '>', db.fn.now())
      .update({ used_at: db.fn.now() })
      .returning('*');
    if (row) return row;
    const existing = await db('oauth_states').where({ id: verified.id }).first('used_at', 'provider');
    if (existing?.used_at)
      throw new ConnectError('This connection link has already been used. Start again from the app.');
    if (existing && existing.provider === provider)
      throw new ConnectError('This connection link has expired. Start again from the app.');
    throw new ConnectError('This connection link is not valid. Start again from the app.');
  }

  router.get('/oauth/callback/:provider', async (req: Request, res: Response) => {
    const provider = String(req.params.provider);
    const module = providers.find(provider);
    if (!module?.oauth) {
      page(res, 400, 'Connection failed', 'Unknown calendar provider.');
      return;
    }
    const name = module.displayName;
    try {
      const state = await consumeState(provider, req.query.state);
      if (req.query.error !== undefined) {
        const denied = req.query.error === 'access_denied';
        throw new ConnectError(
          denied
            ? `Access to your ${name} calendar was not allowed, so nothing was connected.`
            : `${name} could not authorize the connection. Try connecting again.`,
        );
      }
      const code = typeof req.query.code === 'string' ? req.query.code : '';
      if (!code) throw new ConnectError(`${name} sent no authorization code. Try connecting again.`);
      let granted: { refreshToken: string; accountEmail: string };
      try {
        granted = await module.oauth.exchangeCode({
          code,
          codeVerifier: secrets.open(state.code_verifier_sealed),
          redirectUri: redirectUriOf(config, provider),
        });
      } catch (err) {
        if (!(err instanceof ConnectFailure)) throw err;
        logger.warn(
          { provider, reason: err.reason, ...err.detail },
          'oauth: the provider refused or failed the connection',
        );
        throw new ConnectError(connectFailureMessage(err, name));
      }
      const email = granted.accountEmail;
      const refusal = await consentRefusal(db, state.tenant_id, state.staff_id, email);
      if (refusal) {
        logger.warn(
          { provider, tenantId: state.tenant_id, staffId: state.staff_id },
          'oauth: consent by an account the tenant does not allow',
        );
        throw new ConnectError(refusal);
      }
      try {
        await createLink(links, {
          tenantId: state.tenant_id,
          staffId: state.staff_id,
          provider,
          accountEmail: email,
          refreshToken: granted.refreshToken,
        });
      } catch (err) {
        if (err instanceof HttpError && err.status === 404)
          throw new ConnectError('The staff member no longer exists; nothing was connected.');
        throw err;
      }
      logger.info({ provider, tenantId: state.tenant_id, staffId: state.staff_id }, 'oauth: calendar connected');
      if (state.return_url) {
        res.redirect(302, state.return_url);
        return;
      }
      page(
        res,
        200,
        `Your ${name} calendar is connected`,
        `Your ${name} calendar (${email}) is connected. You can close this window.`,
      );
    } catch (err) {
      if (err instanceof ConnectError) {
        page(res, 400, 'Connection failed', err.message);
        return;
      }
      logger.error({ provider, err: err instanceof Error ? err.message : String(err) }, 'oauth: callback failed');
      page(
        res,
        503,
        'Connection failed',
        'Something went wrong on our side; nothing was connected. Try again in a moment.',
      );
    }
  });

  return router;
}
