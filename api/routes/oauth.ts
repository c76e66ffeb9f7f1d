import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { messagesFor, type Messages } from '../connect/i18n';
import { messagePage } from '../connect/layout';
import { sendPage } from '../connect/send';
import { OAUTH_STATE_TTL_MS, OAuthStateSigner, pkcePair } from '../oauthState';
import { idSchema, oauthStartBodySchema } from '../schemas';
import { ConnectFailure } from '../../providers/errors';
import type { ProviderRegistry } from '../../providers/registry';
import type { OAuthConsent } from '../../providers/types';
import { HttpError, param, parse } from '../validation';
import { createLink, type LinkDeps } from './staff';

/** What a connect-flow page says, in the reader's language: what happened, and what to do next. */
export type PageText = (t: Messages) => { title: string; body: string; next?: string };

/** The connect flow failed in a way the person in the browser should read; nothing was stored. */
class ConnectError extends Error {
  constructor(
    readonly text: PageText,
    readonly kind: 'expired' | 'denied' | 'wrong_account' | 'failed',
  ) {
    super(`connect failed: ${kind}`);
  }
}

const failed =
  (body: (t: Messages) => string): PageText =>
  (t) => ({ title: t.errors.failed.title, body: body(t), next: t.errors.failed.next });

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
): Promise<PageText | undefined> {
  const [tenant, staff] = await Promise.all([
    db('tenants').where({ id: tenantId }).first('settings'),
    db('staff').where({ tenant_id: tenantId, id: staffId }).first('email'),
  ]);
  const rule = tenant?.settings?.consentAccounts ?? 'staffEmail';
  const account = accountEmail.toLowerCase();
  if (rule === 'any') return undefined;
  const wrong =
    (body: (w: Messages['errors']['wrongAccount']) => string): PageText =>
    (t) => ({
      title: t.errors.wrongAccount.title,
      body: body(t.errors.wrongAccount),
      next: t.errors.wrongAccount.next,
    });
  if (rule === 'staffEmail') {
    if (!staff?.email) return wrong((w) => w.noStaffEmail);
    if (String(staff.email).toLowerCase() === account) return undefined;
    return wrong((w) => w.notStaffEmail(accountEmail));
  }
  const domain = account.split('@')[1] ?? '';
  if ((rule.domains as string[]).includes(domain)) return undefined;
  return wrong((w) => w.domain(domain));
}

/** What the person in the browser is told when the provider's half of the flow fails. */
function connectFailureMessage(failure: ConnectFailure, name: string): PageText {
  switch (failure.reason) {
    case 'unreachable':
      return failed((t) => t.errors.failed.unreachable(name));
    case 'refused':
      return failed((t) => t.errors.failed.refused(name));
    case 'no_offline_access':
      return failed((t) => t.errors.failed.noOfflineAccess(name));
    case 'no_account_address':
      return failed((t) => t.errors.failed.noAccountAddress(name));
    // Consent by password (connectCredentials.ts) says these itself; never met in an OAuth flow.
    case 'wrong_credentials':
    case 'not_a_calendar_server':
      return failed((t) => t.errors.failed.refused(name));
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

  const linkGone =
    (body: (t: Messages) => string): PageText =>
    (t) => ({ title: t.errors.expired.title, body: body(t), next: t.errors.expired.next });

  /** Marks the state's row used (once, before it expires) and answers it; otherwise why not. */
  async function consumeState(provider: string, rawState: unknown): Promise<any> {
    const verified = signer.verify(typeof rawState === 'string' ? rawState : undefined);
    if (!verified.ok) {
      throw new ConnectError(
        verified.reason === 'expired'
          ? linkGone((t) => t.errors.failed.expiredLink)
          : linkGone((t) => t.errors.failed.invalidLink),
        'expired',
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
      throw new ConnectError(
        linkGone((t) => t.errors.failed.usedLink),
        'expired',
      );
    if (existing && existing.provider === provider)
      throw new ConnectError(
        linkGone((t) => t.errors.failed.expiredLink),
        'expired',
      );
    throw new ConnectError(
      linkGone((t) => t.errors.failed.invalidLink),
      'expired',
    );
  }

  /**
   * The callback's pages, in the connect page's style and language (the tenant's `connectLanguage`
   * once the state names the tenant, else the browser's), with a way back to the page when the
   * consent started there.
   */
  async function answer(
    req: Request,
    res: Response,
    status: number,
    text: PageText,
    kind: 'ok' | 'bad',
    id: string,
    state?: { tenant_id: string; return_url: string | null },
  ): Promise<void> {
    const tenant = state ? await db('tenants').where({ id: state.tenant_id }).first('name', 'settings') : undefined;
    const t = messagesFor(req, tenant?.settings?.connectLanguage);
    const back = backTo(state?.return_url);
    sendPage(
      res,
      status,
      messagePage(t, {
        kind,
        id,
        ...text(t),
        business: tenant ? String(tenant.settings?.businessName ?? tenant.name) : undefined,
        back: back ? { href: back, label: t.backToCalendars } : undefined,
      }),
    );
  }

  router.get('/oauth/callback/:provider', async (req: Request, res: Response) => {
    const provider = String(req.params.provider);
    const module = providers.find(provider);
    if (!module?.oauth) {
      await answer(
        req,
        res,
        400,
        failed((t) => t.errors.failed.unknownProvider),
        'bad',
        'failed',
      );
      return;
    }
    const name = module.displayName;
    let state: any;
    try {
      state = await consumeState(provider, req.query.state);
      if (req.query.error !== undefined) {
        const denied = req.query.error === 'access_denied';
        throw denied
          ? new ConnectError(
              (t) => ({
                title: t.errors.denied.title,
                body: t.errors.denied.body(name),
                next: t.errors.denied.next(name),
              }),
              'denied',
            )
          : new ConnectError(
              failed((t) => t.errors.failed.providerError(name)),
              'failed',
            );
      }
      const code = typeof req.query.code === 'string' ? req.query.code : '';
      if (!code)
        throw new ConnectError(
          failed((t) => t.errors.failed.noCode(name)),
          'failed',
        );
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
        throw new ConnectError(connectFailureMessage(err, name), 'failed');
      }
      const email = granted.accountEmail;
      const refusal = await consentRefusal(db, state.tenant_id, state.staff_id, email);
      if (refusal) {
        logger.warn(
          { provider, tenantId: state.tenant_id, staffId: state.staff_id },
          'oauth: consent by an account the tenant does not allow',
        );
        throw new ConnectError(refusal, 'wrong_account');
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
          throw new ConnectError(
            failed((t) => t.errors.failed.staffGone),
            'failed',
          );
        throw err;
      }
      logger.info({ provider, tenantId: state.tenant_id, staffId: state.staff_id }, 'oauth: calendar connected');
      if (state.return_url) {
        res.redirect(302, state.return_url);
        return;
      }
      await answer(
        req,
        res,
        200,
        (t) => ({ title: t.successTitle(name), body: t.successBody(email), next: t.successNext }),
        'ok',
        'success',
        state,
      );
    } catch (err) {
      if (err instanceof ConnectError) {
        await answer(req, res, 400, err.text, 'bad', err.kind.replace('_', '-'), state);
        return;
      }
      logger.error({ provider, err: err instanceof Error ? err.message : String(err) }, 'oauth: callback failed');
      await answer(req, res, 503, (t) => t.errors.server, 'bad', 'server-error', state).catch(() => {
        if (!res.headersSent) res.status(503).end();
      });
    }
  });

  return router;
}

/** Back to the page the consent started from (its path on calsync's own origin), without the success marker. */
function backTo(returnUrl: string | null | undefined): string | undefined {
  if (!returnUrl || !returnUrl.startsWith('/') || returnUrl.startsWith('//')) return undefined;
  const url = new URL(returnUrl, 'http://calsync.invalid');
  url.searchParams.delete('connected');
  return url.pathname + url.search;
}
