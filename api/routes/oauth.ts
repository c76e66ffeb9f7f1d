import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { Knex } from 'knex';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import type { SecretBox } from '../../lib/secretBox';
import { OAUTH_STATE_TTL_MS, OAuthStateSigner, pkcePair } from '../oauthState';
import { idSchema, oauthStartBodySchema } from '../schemas';
import { HttpError, param, parse } from '../validation';
import { createLink, type LinkDeps } from './staff';

export type Provider = 'google' | 'microsoft';

const PROVIDER_NAMES: Record<Provider, string> = { google: 'Google', microsoft: 'Microsoft' };

/** Calendar access that survives (a refresh token), and the account's address. */
const SCOPES: Record<Provider, string> = {
  google: 'openid email https://www.googleapis.com/auth/calendar',
  // User.Read: GET /me, to learn the mailbox's address.
  microsoft: 'offline_access User.Read Calendars.ReadWrite',
};

/** The connect flow failed in a way the person in the browser should read; nothing was stored. */
class ConnectError extends Error {}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(res: Response, status: number, title: string, message: string): void {
  res.status(status).setHeader('Cache-Control', 'no-store');
  res.type('html').send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    `<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`);
}

interface TokenAnswer {
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  error?: string;
}

function redirectUriOf(config: Config, provider: Provider): string {
  return `${config.publicApiUrl.replace(/\/+$/, '')}/oauth/callback/${provider}`;
}

/**
 * Starts a consent: stores the PKCE verifier (sealed) and where to return, answers the provider's
 * authorize URL with a signed, single-use state. The API route and the connect page both use it.
 */
export async function startAuthorization(
  { db, secrets }: Pick<LinkDeps, 'db' | 'secrets'>,
  config: Config,
  start: { tenantId: string; staffId: string; provider: Provider; returnUrl?: string },
): Promise<string> {
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
  void db('oauth_states').where('expires_at', '<', new Date(Date.now() - 24 * 3600 * 1000)).delete().catch(() => undefined);

  const client = config[start.provider];
  const url = new URL(client.authorizeUrl);
  const params: Record<string, string> = {
    client_id: client.clientId,
    redirect_uri: redirectUriOf(config, start.provider),
    response_type: 'code',
    scope: SCOPES[start.provider],
    state: new OAuthStateSigner(config.tokenKeys).sign(id, expiresAt),
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...(start.provider === 'google' ? { access_type: 'offline', prompt: 'consent', include_granted_scopes: 'true' } : { prompt: 'select_account' }),
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

/**
 * Connecting a calendar by consent (OAuth 2.0 authorization code + PKCE):
 * `POST /v1/staff/:id/links` (tenant key) answers the provider's authorize URL; the provider sends
 * the browser to `GET /oauth/callback/:provider`, which redeems the code and stores the link.
 * The PKCE verifier stays in oauth_states (sealed); the `state` is signed, expires and is single-use.
 */
export function oauthRoutes(links: LinkDeps, config: Config, logger: Logger): Router {
  const { db, secrets } = links;
  const router = Router();
  const signer = new OAuthStateSigner(config.tokenKeys);
  const redirectUri = (provider: Provider) => redirectUriOf(config, provider);

  router.post('/v1/staff/:id/links', async (req, res) => {
    const staffId = param(req, 'id', idSchema);
    const body = parse(oauthStartBodySchema, req.body);
    res.status(201).json({ authorizeUrl: await startAuthorization(links, config, { tenantId: req.tenantId!, staffId, ...body }) });
  });

  /** Redeems the code (with the verifier) at the provider's token endpoint. */
  async function exchange(provider: Provider, code: string, verifier: string): Promise<TokenAnswer> {
    const client = config[provider];
    let res: globalThis.Response;
    try {
      res = await fetch(client.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: redirectUri(provider),
          client_id: client.clientId,
          client_secret: client.clientSecret,
          code_verifier: verifier,
          ...(provider === 'microsoft' ? { scope: SCOPES.microsoft } : {}),
        }),
        signal: AbortSignal.timeout(15000),
      });
    } catch (err) {
      logger.warn({ provider, err: String(err) }, 'oauth: token endpoint unreachable');
      throw new ConnectError(`${PROVIDER_NAMES[provider]} could not be reached. Try connecting again.`);
    }
    const body = (await res.json().catch(() => ({}))) as TokenAnswer;
    if (!res.ok || !body.access_token) {
      // Only the status and the error code: the body of a token answer is never logged.
      logger.warn({ provider, status: res.status, error: body.error }, 'oauth: code exchange refused');
      throw new ConnectError(`${PROVIDER_NAMES[provider]} did not accept the authorization. Try connecting again.`);
    }
    if (!body.refresh_token) {
      throw new ConnectError(`${PROVIDER_NAMES[provider]} granted no lasting (offline) access. Try connecting again.`);
    }
    return body;
  }

  /** The connected account's address: the id_token's e-mail, else userinfo (Google) or /me (Microsoft). */
  async function accountEmail(provider: Provider, tokens: TokenAnswer): Promise<string> {
    if (provider === 'google' && tokens.id_token) {
      // Straight from the token endpoint over TLS: no signature check needed (OIDC Core 3.1.3.7).
      try {
        const claims = JSON.parse(Buffer.from(tokens.id_token.split('.')[1] ?? '', 'base64url').toString('utf8'));
        if (typeof claims.email === 'string' && claims.email.includes('@')) return claims.email.toLowerCase();
      } catch {
        // fall back to userinfo
      }
    }
    const url = provider === 'google'
      ? new URL('oauth2/v3/userinfo', config.google.apiRootUrl.endsWith('/') ? config.google.apiRootUrl : `${config.google.apiRootUrl}/`).toString()
      : `${config.microsoft.graphBaseUrl.replace(/\/+$/, '')}/v1.0/me`;
    let email: unknown;
    try {
      const res = await fetch(url, { headers: { authorization: `Bearer ${tokens.access_token}`, accept: 'application/json' }, signal: AbortSignal.timeout(15000) });
      const body = (await res.json().catch(() => ({}))) as { email?: unknown; mail?: unknown; userPrincipalName?: unknown };
      if (res.ok) email = provider === 'google' ? body.email : (body.mail || body.userPrincipalName);
      else logger.warn({ provider, status: res.status }, 'oauth: reading the account failed');
    } catch (err) {
      logger.warn({ provider, err: String(err) }, 'oauth: reading the account failed');
    }
    if (typeof email !== 'string' || !email.includes('@')) {
      throw new ConnectError(`The ${PROVIDER_NAMES[provider]} account's address could not be read. Try connecting again.`);
    }
    return email.toLowerCase();
  }

  /** Marks the state's row used (once, before it expires) and answers it; otherwise why not. */
  async function consumeState(provider: Provider, rawState: unknown): Promise<any> {
    const verified = signer.verify(typeof rawState === 'string' ? rawState : undefined);
    if (!verified.ok) {
      throw new ConnectError(verified.reason === 'expired'
        ? 'This connection link has expired. Start again from the app.'
        : 'This connection link is not valid. Start again from the app.');
    }
    const [row] = await db('oauth_states')
      .where({ id: verified.id, provider })
      .whereNull('used_at')
      .where('expires_at', '>', db.fn.now())
      .update({ used_at: db.fn.now() })
      .returning('*');
    if (row) return row;
    const existing = await db('oauth_states').where({ id: verified.id }).first('used_at', 'provider');
    if (existing?.used_at) throw new ConnectError('This connection link has already been used. Start again from the app.');
    if (existing && existing.provider === provider) throw new ConnectError('This connection link has expired. Start again from the app.');
    throw new ConnectError('This connection link is not valid. Start again from the app.');
  }

  router.get('/oauth/callback/:provider', async (req: Request, res: Response) => {
    const provider = String(req.params.provider);
    if (provider !== 'google' && provider !== 'microsoft') {
      page(res, 400, 'Connection failed', 'Unknown calendar provider.');
      return;
    }
    const name = PROVIDER_NAMES[provider];
    try {
      const state = await consumeState(provider, req.query.state);
      if (req.query.error !== undefined) {
        const denied = req.query.error === 'access_denied';
        throw new ConnectError(denied
          ? `Access to your ${name} calendar was not allowed, so nothing was connected.`
          : `${name} could not authorize the connection. Try connecting again.`);
      }
      const code = typeof req.query.code === 'string' ? req.query.code : '';
      if (!code) throw new ConnectError(`${name} sent no authorization code. Try connecting again.`);
      const tokens = await exchange(provider, code, secrets.open(state.code_verifier_sealed));
      const email = await accountEmail(provider, tokens);
      try {
        await createLink(links, { tenantId: state.tenant_id, staffId: state.staff_id, provider, accountEmail: email, refreshToken: tokens.refresh_token! });
      } catch (err) {
        if (err instanceof HttpError && err.status === 404) throw new ConnectError('The staff member no longer exists; nothing was connected.');
        throw err;
      }
      logger.info({ provider, tenantId: state.tenant_id, staffId: state.staff_id }, 'oauth: calendar connected');
      if (state.return_url) {
        res.redirect(302, state.return_url);
        return;
      }
      page(res, 200, `Your ${name} calendar is connected`, `Your ${name} calendar (${email}) is connected. You can close this window.`);
    } catch (err) {
      if (err instanceof ConnectError) {
        page(res, 400, 'Connection failed', err.message);
        return;
      }
      logger.error({ provider, err: err instanceof Error ? err.message : String(err) }, 'oauth: callback failed');
      page(res, 503, 'Connection failed', 'Something went wrong on our side; nothing was connected. Try again in a moment.');
    }
  });

  return router;
}
