import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response, Router } from 'express';

/** What the user consented to, remembered under the authorization code until it is redeemed. */
export interface AuthorizationGrant {
  email: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  expiresAt: number;
}

export type RedeemResult =
  | { ok: true; grant: AuthorizationGrant }
  | {
      ok: false;
      reason: 'unknown_code' | 'expired' | 'redirect_uri_mismatch' | 'verifier_missing' | 'verifier_mismatch';
    };

/** Authorization codes: single use, 60 s, bound to the redirect URI and the PKCE challenge. */
export class AuthorizationCodes {
  private readonly codes = new Map<string, AuthorizationGrant>();
  ttlMs = 60_000;

  issue(grant: Omit<AuthorizationGrant, 'expiresAt'>, prefix = ''): string {
    const code = `${prefix}${randomBytes(24).toString('base64url')}`;
    this.codes.set(code, { ...grant, expiresAt: Date.now() + this.ttlMs });
    return code;
  }

  /** A wrong verifier or redirect URI does not burn the code; a successful redemption does. */
  redeem(code: string, redirectUri: string | undefined, verifier: string | undefined): RedeemResult {
    const grant = this.codes.get(code);
    if (!grant) return { ok: false, reason: 'unknown_code' };
    if (grant.expiresAt <= Date.now()) {
      this.codes.delete(code);
      return { ok: false, reason: 'expired' };
    }
    if (redirectUri !== grant.redirectUri) return { ok: false, reason: 'redirect_uri_mismatch' };
    if (grant.codeChallenge) {
      if (!verifier) return { ok: false, reason: 'verifier_missing' };
      const computed =
        grant.codeChallengeMethod === 'plain' ? verifier : createHash('sha256').update(verifier).digest('base64url');
      const a = Buffer.from(computed);
      const b = Buffer.from(grant.codeChallenge);
      if (a.length !== b.length || !timingSafeEqual(a, b)) return { ok: false, reason: 'verifier_mismatch' };
    }
    this.codes.delete(code);
    return { ok: true, grant };
  }

  clear(): void {
    this.codes.clear();
  }
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const AUTHORIZE_PARAMS = [
  'client_id',
  'redirect_uri',
  'response_type',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'access_type',
  'prompt',
  'login_hint',
];

function str(source: Record<string, unknown>, name: string): string | undefined {
  const value = source[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function errorPage(res: Response, providerName: string, message: string): void {
  res
    .status(400)
    .type('html')
    .send(
      `<!doctype html><html><head><title>${escapeHtml(providerName)}: error</title></head>` +
        `<body><h1>Authorization error</h1><p>${escapeHtml(message)}</p></body></html>`,
    );
}

function redirectWith(res: Response, redirectUri: string, params: Record<string, string | undefined>): void {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  res.redirect(302, url.toString());
}

/**
 * An authorize endpoint: GET renders a consent page (the `login_hint` e-mail, or a field to type
 * one) with Allow and Deny; the form POSTs back to the same path, which redirects to
 * redirect_uri with `code` and `state`, or with `error=access_denied`.
 */
export function authorizeRoutes(
  router: Router,
  path: string,
  codes: AuthorizationCodes,
  opts: { providerName: string; codePrefix?: string },
): void {
  /** Problems with client_id or redirect_uri are shown to the user, never redirected (RFC 6749 4.1.2.1). */
  const check = (source: Record<string, unknown>, res: Response): boolean => {
    const redirectUri = str(source, 'redirect_uri');
    if (!str(source, 'client_id')) {
      errorPage(res, opts.providerName, 'Missing required parameter: client_id');
      return false;
    }
    try {
      if (!redirectUri || !/^https?:$/.test(new URL(redirectUri).protocol)) throw new Error('bad');
    } catch {
      errorPage(res, opts.providerName, 'Invalid parameter value for redirect_uri');
      return false;
    }
    if (str(source, 'response_type') !== 'code') {
      redirectWith(res, redirectUri, { error: 'unsupported_response_type', state: str(source, 'state') });
      return false;
    }
    const method = str(source, 'code_challenge_method');
    if (method !== undefined && method !== 'S256' && method !== 'plain') {
      redirectWith(res, redirectUri, {
        error: 'invalid_request',
        error_description: 'Invalid code_challenge_method',
        state: str(source, 'state'),
      });
      return false;
    }
    return true;
  };

  router.get(path, (req: Request, res: Response) => {
    const query = req.query as Record<string, unknown>;
    if (!check(query, res)) return;
    const hidden = AUTHORIZE_PARAMS.filter((p) => p !== 'login_hint' && str(query, p) !== undefined)
      .map((p) => `<input type="hidden" name="${p}" value="${escapeHtml(str(query, p)!)}">`)
      .join('\n');
    const hint = str(query, 'login_hint');
    const action = escapeHtml(req.baseUrl + req.path);
    res.type('html')
      .send(`<!doctype html><html><head><title>${escapeHtml(opts.providerName)}: sign in</title></head><body>
<h1>${escapeHtml(opts.providerName)}</h1>
<form method="post" action="${action}">
${hidden}
<p>Sign in as <input type="email" name="login_hint" value="${escapeHtml(hint ?? '')}" required></p>
<p>${escapeHtml(str(query, 'client_id')!)} wants to access your calendar (${escapeHtml(str(query, 'scope') ?? '')}).</p>
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form></body></html>`);
  });

  router.post(path, (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!check(body, res)) return;
    const redirectUri = str(body, 'redirect_uri')!;
    const state = str(body, 'state');
    if (str(body, 'decision') !== 'allow') {
      redirectWith(res, redirectUri, { error: 'access_denied', error_description: 'The user denied access', state });
      return;
    }
    const email = str(body, 'login_hint');
    if (!email || !email.includes('@')) {
      errorPage(res, opts.providerName, 'Type the e-mail address of the account');
      return;
    }
    const code = codes.issue(
      {
        email: email.toLowerCase(),
        clientId: str(body, 'client_id')!,
        redirectUri,
        scope: str(body, 'scope') ?? '',
        codeChallenge: str(body, 'code_challenge'),
        codeChallengeMethod: str(body, 'code_challenge') ? (str(body, 'code_challenge_method') ?? 'plain') : undefined,
      },
      opts.codePrefix,
    );
    redirectWith(res, redirectUri, { code, state });
  });
}
